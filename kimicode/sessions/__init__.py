"""Saved sessions: append-only JSONL files, one per session."""
