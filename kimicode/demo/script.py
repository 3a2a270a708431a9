"""The demo's replay script: an orchestrator and one sub-agent per page.

Each turn waits like a real model would (`latency_ms`), so the speedup the
swarm reports is the real effect of running the sub-agents side by side.
"""

from __future__ import annotations

from typing import Any

from kimicode.demo.pages import files

PROMPT = (
    "Build the Lumen Bakery website described in SITE.md: every page and the shared "
    "stylesheet. Split the work so the pages are built in parallel."
)
TASKS = {
    "style": "css/site.css",
    "home": "index.html",
    "menu": "menu.html",
    "about": "about.html",
    "visit": "visit.html",
    "order": "order.html",
}
LATENCY_MS = 300


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _task_prompt(name: str, path: str) -> str:
    return (
        f"Lumen Bakery site, part {name}: build `{path}` exactly as SITE.md describes "
        "(shared header and footer, link css/site.css). Check the file when done."
    )


def _subagent(name: str, path: str, content: str) -> dict[str, Any]:
    check = f"grep -c 'Lumen Bakery' {path}" if path.endswith(".html") else f"wc -l {path}"
    return {
        "match": f"^Lumen Bakery site, part {name}:",
        "turns": [
            {
                "reasoning_content": f"I own {path}. Read the brief first.",
                "tool_calls": [_call("read_file", path="SITE.md"), _call("glob", pattern="*")],
            },
            {"tool_calls": [_call("write_file", path=path, content=content)]},
            {"tool_calls": [_call("run_shell", command=check)]},
            {"content": f"Built {path} from SITE.md; checked it with `{check}`."},
        ],
    }


def build_script() -> dict[str, Any]:
    content = files()
    tasks = [
        {"name": name, "prompt": _task_prompt(name, path), "files": [path]}
        for name, path in TASKS.items()
    ]
    orchestrator = {
        "match": "^Build the Lumen Bakery website",
        "turns": [
            {
                "reasoning_content": "Read the brief, then give each page to its own agent.",
                "tool_calls": [_call("read_file", path="SITE.md")],
            },
            {
                "content": "Six independent files: one sub-agent each.",
                "tool_calls": [_call("spawn_agents", tasks=tasks)],
            },
            {"tool_calls": [_call("run_shell", command="ls -1 *.html css/")]},
            {
                "content": (
                    "The Lumen Bakery site is built: index, menu, about, visit and order pages "
                    "plus css/site.css, each written by its own sub-agent in parallel and merged."
                )
            },
        ],
    }
    return {
        "model": "kimi-k2.5",
        "defaults": {"latency_ms": LATENCY_MS, "chunks": 4},
        "conversations": [
            orchestrator,
            *(_subagent(name, path, content[path]) for name, path in TASKS.items()),
        ],
    }
