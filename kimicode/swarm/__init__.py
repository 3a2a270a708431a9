"""The swarm: sub-agents in cheap git worktrees, their work merged back safely.

Git layer (each module one job): `snapshot` (the base commit), `worktrees`
(sparse per-agent worktrees), `workspace` (`SparseWorkspace`: the whole repo
visible from a sparse worktree), `shared` (linked/copied build state),
`commit` (an agent's work on its branch), `merge` (plan, then apply all or
nothing), `manifest` (per-run record in the cache dir), `cleanup` (what
interrupted runs left).
"""
