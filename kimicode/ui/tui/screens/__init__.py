"""Screens pushed over the chat: the approval modal and the swarm dashboard."""
