"""Talking to OpenAI-compatible chat-completions endpoints."""
