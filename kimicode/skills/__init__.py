"""Agent Skills: folders with a `SKILL.md` the agent loads when a task calls for one."""
