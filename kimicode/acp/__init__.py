"""`kimicode acp`: kimicode as an Agent Client Protocol agent for Zed, JetBrains and Neovim.

One more consumer of the event stream, like the TUI: the core never imports
this package. `server` speaks JSON-RPC over stdio; `agent` answers the
protocol's methods; `updates` turns kimicode events into session updates.
"""
