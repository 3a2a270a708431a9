"""Knowing the repo: a tree-sitter map of its important symbols, and watching it change."""
