"""The bank's MCP server for AI agents: streamable HTTP at `/mcp` in the app, and stdio with
`python -m app.mcp`. See `server` (tools, resource, prompt), `auth`, `http` and `__main__`."""
