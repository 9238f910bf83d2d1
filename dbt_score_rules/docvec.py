"""dbt-score rules and filters for docvec's conventions (configured in pyproject.toml [tool.dbt-score])."""

from dbt_score import Model, RuleViolation, Severity, rule, rule_filter

UNIQUENESS_TESTS = {"unique", "unique_combination"}


@rule_filter
def is_public(model: Model) -> bool:
    """Models with `access: public`: the tables users and applications query (marts, observability)."""
    return model.access == "public"


@rule(severity=Severity.HIGH)
def has_primary_key_test(model: Model) -> RuleViolation | None:
    """A model has a uniqueness test on its key: `unique` on a column or `unique_combination` on the model."""
    column_tests = [test.type for column in model.columns for test in column.tests]
    if not UNIQUENESS_TESTS & {*column_tests, *(test.type for test in model.tests)}:
        return RuleViolation(message="No unique or unique_combination test on the model's key.")
    return None
