"""Front ends: print-mode renderers and the Textual TUI, all consumers of events."""
