"""kimicode: a terminal coding agent with a parallel swarm of sub-agents."""

__version__ = "0.1.0"
