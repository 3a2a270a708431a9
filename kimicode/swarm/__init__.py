"""The swarm: sub-agents in cheap git worktrees, their work merged back safely.

One line per module:

- `spawn_tool`: the `spawn_agents` tool the orchestrator calls.
- `tasks`: its arguments, validated (names, overlapping files, the budget).
- `orchestrator`: one call: base, run the agents in parallel, merge, account.
- `control`: the running agents of a swarm, so a UI can cancel one or all.
- `agent_types`: the types a task may name (`.kimicode/agents/*.md`, coder, explore).
- `subagent`: one sub-agent run, plain data in and out.
- `typed`: what an agent type changes about a sub-agent (model, tools, permissions).
- `tally`: what one turn's sub-agents did, summed for the result.
- `snapshot`: the base commit (HEAD, or a snapshot of a dirty tree).
- `records`: the plain records of an agent's worktree and commit.
- `worktrees`: one sparse worktree and branch per agent.
- `worktree_batch`: many agents' worktrees made at once, no git process each.
- `workspace`: `SparseWorkspace`, the whole repository visible from one.
- `readonly`: read-only agents: the base snapshot, refused writes, fetched sources.
- `shared`: `[swarm] link`/`copy`/`setup` build state in a worktree.
- `commit`: an agent's own files committed on its branch.
- `commit_batch`: many agents' work committed in a handful of git processes.
- `merge`: merge safety, the whole story, and the merge itself.
- `uninterruptible`: clean-up (commit, merge) run to its end through repeated cancels.
- `gitops`: the swarm's questions to git (top directory, identity, trees).
- `manifest`: where worktrees live; the per-run record in the cache dir.
- `cleanup`: what interrupted runs left (`kimicode swarm clean`).
- `bundles`: git bundles carrying the base to other machines and agents' work back.
- `ray_backend`: `[swarm] backend = "ray"`, the driver side: agents as Ray tasks.
- `ray_checks`: before a Ray swarm: Ray installed, the cluster reachable, every node fit.
- `ray_limiter`: one request limit for the whole cluster (an actor every worker asks).
- `ray_node`: the cluster side: one agent run on a node from plain data.
- `resume`: stopped agents resumed from their kept conversations; `swarm list` / `swarm merge`.
"""
