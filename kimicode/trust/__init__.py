"""Trust: what the model may do, where its shell commands run, and how to undo it.

`rules` (permission rules and modes), `approvals` (approvers built on them),
`launcher` (the one way a process starts for the model: shell, checks, setup,
hooks), `sandbox` (the bubblewrap jail the launcher wraps them in),
`checkpoints` (undo), `hooks` (the user's own commands at fixed points). What
holds and what does not is told once, in the README's Security section.
"""
