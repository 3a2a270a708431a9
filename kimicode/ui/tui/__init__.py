"""The interactive Textual front end: chat, approvals and the live swarm dashboard.

Nothing here is imported by the core; `run.run_tui` is the entry point and the
only module that pulls in Textual at import time is the app and its widgets.
"""
