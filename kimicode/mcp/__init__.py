"""MCP client: servers from `mcp.json`, their tools offered as `mcp__<server>__<tool>`.

Modules: `config` (which servers), `connection` (one live server in its own
task), `tool` (an MCP tool as our Tool), `manager` (all servers of a
session), `report` (`kimicode mcp list`). Importing this package loads none
of the `mcp` SDK; the modules that talk to servers import it when they do.
"""
