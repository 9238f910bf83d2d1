"""The Load stage: publish the audited serving index to the embedded serving store and to the
external targets of var `publish_targets`, prove each holds exactly the published rows, and read
them back (`docvec publish`, `docvec verify`, `docvec search --target`)."""
