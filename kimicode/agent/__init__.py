"""The agent: a loop of model turns and tool calls, and its collaborators."""
