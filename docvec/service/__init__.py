"""The retrieval service: HTTP API, MCP server and search page over the published store."""
