"""The swarm's wider shapes through the real entry point: read-only research agents."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import call, git, requests_of, script, sub_agent, task, turn

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from web_site import Site, web_site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with web_site() as served:
        yield served


def _report(server) -> str:  # type: ignore[no-untyped-def]
    """What spawn_agents returned to the orchestrator."""
    for body in requests_of(server):
        for message in body["messages"]:
            if message["role"] == "tool" and "sub-agents ran" in str(message["content"]):
                return str(message["content"])
    raise AssertionError("no spawn_agents report reached the orchestrator")


def _sub_requests(server, name: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [
        b
        for b in requests_of(server)
        if len(b["messages"]) > 1 and str(b["messages"][1]["content"]).startswith(f"Task {name}:")
    ]


def test_read_only_fan_out_of_40_with_a_writer_and_sources(
    repo: Path, replay, kimicode, site: Site
) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        '[web]\nallow = ["127.0.0.1"]\n[permissions]\nallow = ["fetch_url(127.0.0.1)"]\n'
    )
    (repo / "cli.py").write_text("print('uncommitted: readers see the snapshot')\n")
    readers = [f"r{i:02d}" for i in range(40)]
    page = f"{site.url}/article"
    conversations = [
        sub_agent(
            n,
            [
                turn(tool_calls=[call("read_file", path="cli.py")]),
                turn(f"{n}: cli.py prints a message."),
            ],
        )
        for n in readers[2:]
    ]
    conversations.append(
        sub_agent(
            "r00",
            [
                turn(tool_calls=[call("fetch_url", url=page)]),
                turn("r00: the release notes mention widgets."),
            ],
        )
    )
    conversations.append(
        sub_agent(
            "r01",
            [
                turn(tool_calls=[call("write_file", path="cli.py", content="hacked\n")]),
                turn(tool_calls=[call("run_shell", command="touch pwned")]),
                turn("r01: I could not write."),
            ],
        )
    )
    conversations.append(
        sub_agent(
            "w",
            [
                turn(tool_calls=[call("write_file", path="docs/w.md", content="# w\n")]),
                turn("w wrote docs/w.md."),
            ],
        )
    )
    # half say `files: []`, half `mode: "read"` with no files at all: the same agent
    tasks = [task(n) for n in readers[::2]]
    tasks += [
        {"name": n, "prompt": f"Task {n}: do your part.", "mode": "read"} for n in readers[1::2]
    ]
    tasks += [task("w", "docs/w.md")]
    server = replay(
        script(
            ("^Split", [turn(tool_calls=[call("spawn_agents", tasks=tasks)]), turn("Done.")]),
            *conversations,
        )
    )
    res = kimicode(
        "-p", "Split the audit", "--swarm", "--yolo", "--output-format", "json",
        cwd=repo, server=server, timeout=600,
    )  # fmt: skip
    assert res.code == 0, res
    out = res.json()
    agents = {a["name"]: a for a in out["agents"]}
    assert len(agents) == 41
    assert all(agents[n]["status"] == "success" for n in agents), agents
    # readers: no worktree, no branch, nothing merged; they counted in the accounting
    assert not any(agents[n]["merged"] for n in readers) and agents["w"]["merged"]
    assert out["tool_calls"] == 1 + 38 + 1 + 2 + 1
    assert (repo / "docs" / "w.md").read_text() == "# w\n"
    assert (repo / "cli.py").read_text() == "print('uncommitted: readers see the snapshot')\n"
    assert not (repo / "pwned").exists()
    assert git(repo, "branch", "--list", "kimicode/*") == ""
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    # a reader read the base snapshot (the uncommitted edit included)
    r05 = _sub_requests(server, "r05")[-1]["messages"]
    assert "uncommitted: readers see the snapshot" in str(r05[-1]["content"])
    # readers are offered only read-only tools
    offered = {t["function"]["name"] for t in _sub_requests(server, "r05")[0]["tools"]}
    assert {"read_file", "grep", "glob", "fetch_url"} <= offered
    assert not offered & {"write_file", "edit_file", "run_shell", "spawn_agents"}
    # a write attempt is a tool error saying it is read-only
    r01 = [m for m in _sub_requests(server, "r01")[-1]["messages"] if m["role"] == "tool"]
    assert len(r01) == 2 and all("read-only" in str(m["content"]) for m in r01)
    report = _report(server)
    assert "## r07: success (read-only)" in report and "r07: cli.py prints a message." in report
    assert "## r06: success (read-only)" in report
    assert f"r00: the release notes mention widgets.\n\nSources:\n- {page}" in report
    assert "w wrote docs/w.md." in report and "## w: success, merged" in report
    assert any(r["path"] == "/article" for r in site.requests)


def test_a_read_only_only_call_leaves_nothing_behind(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            ("^Split", [turn(tool_calls=[call("spawn_agents", tasks=[task("q")])]), turn("Ok.")]),
            sub_agent(
                "q", [turn(tool_calls=[call("grep", pattern="argparse")]), turn("q: found.")]
            ),
        )
    )
    head = git(repo, "rev-parse", "HEAD")
    res = kimicode("-p", "Split it", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    q = _sub_requests(server, "q")[-1]["messages"]
    assert "cli.py" in str(q[-1]["content"]) and "argparse" in str(q[-1]["content"])
    assert "q: found." in _report(server) and "0 merged" in _report(server)
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--list", "kimicode/*") == ""


def test_templated_fan_out_of_120(repo: Path, replay, kimicode) -> None:
    names = [f"p{i:03d}" for i in range(120)]
    template = "Task {name}: translate docs/{item}.md into French in docs/fr/{item}.md."
    items = [{"name": n, "item": n, "files": [f"docs/fr/{n}.md"]} for n in names]
    server = replay(
        script(
            (
                "^Split",
                [
                    turn(tool_calls=[call("spawn_agents", template=template, items=items)]),
                    turn("Done."),
                ],
            ),
            *(
                sub_agent(
                    n,
                    [
                        turn(tool_calls=[call("write_file", path=f"docs/fr/{n}.md", content=n)]),
                        turn(f"{n} translated."),
                    ],
                )
                for n in names
            ),
        )
    )
    res = kimicode(
        "-p", "Split the translation", "--swarm", "--yolo", "--output-format", "json",
        cwd=repo, server=server, timeout=900,
    )  # fmt: skip
    assert res.code == 0, res
    out = res.json()
    assert sorted(a["name"] for a in out["agents"] if a["merged"]) == names
    for n in names:
        assert (repo / "docs" / "fr" / f"{n}.md").read_text() == n
    # each agent got the template with its own values filled in
    first = _sub_requests(server, "p042")[0]["messages"][1]["content"]
    assert first.startswith("Task p042: translate docs/p042.md into French in docs/fr/p042.md.")
    assert "120 sub-agents ran" in _report(server)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"template": "Task {name}: do it.", "items": [{"name": "a", "item": "x"}]}, "{item}"),
        (
            {
                "template": "Task: fix {item}.",
                "items": [{"name": "a", "item": "x"}, {"name": "b", "item": "x"}],
            },
            "same prompt: a, b",
        ),
        ({"items": [{"name": "a", "item": "x"}]}, "needs a `template`"),
        (
            {
                "template": "Task {name}: {item}",
                "items": [
                    {"name": "a", "item": "x", "files": ["f.md"]},
                    {"name": "a", "item": "y"},
                ],
            },
            "must be unique; repeated: a",
        ),
        (
            {
                "template": "Task {name}: {item}",
                "items": [
                    {"name": "a", "item": "x", "files": ["f.md"]},
                    {"name": "b", "item": "y", "files": ["f.md"]},
                ],
            },
            "may not overlap",
        ),
    ],
)
def test_bad_templates_are_tool_errors_with_nothing_started(
    repo: Path, replay, kimicode, arguments: dict, message: str
) -> None:  # type: ignore[type-arg]
    server = replay(
        script(("^Split", [turn(tool_calls=[call("spawn_agents", **arguments)]), turn("Ok.")]))
    )
    res = kimicode("-p", "Split it", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    bodies = requests_of(server)
    assert len(bodies) == 2  # the orchestrator only: no sub-agent ever asked the model
    result = [m for m in bodies[1]["messages"] if m["role"] == "tool"][-1]["content"]
    assert message in result, result
    assert git(repo, "branch", "--list", "kimicode/*") == ""


def test_301_agents_are_a_tool_error_and_the_limits_reach_300_and_10000(
    repo: Path, replay, kimicode
) -> None:
    tasks = [task(f"t{i}") for i in range(301)]
    server = replay(
        script(("^Split", [turn(tool_calls=[call("spawn_agents", tasks=tasks)]), turn("Ok.")]))
    )
    res = kimicode(
        "-p", "Split it", "--swarm", "--yolo", "--max-agents", "300",
        "--max-tool-calls", "10000", cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    bodies = requests_of(server)
    assert len(bodies) == 2  # nothing started: no sub-agent asked the model
    result = [m for m in bodies[1]["messages"] if m["role"] == "tool"][-1]["content"]
    assert "301 tasks" in result and "at most 300" in result
    for flag, value in (("--max-agents", "301"), ("--max-tool-calls", "10001")):
        over = kimicode("-p", "Split it", "--swarm", flag, value, cwd=repo, server=server)
        assert over.code == 2 and flag in over.stderr, over


def test_typed_agents_from_project_files_and_built_ins(repo: Path, replay, kimicode) -> None:
    agents = repo / ".kimicode" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: Reviews code for unsafe YAML loading.\n"
        "tools: [read_file, grep]\nmodel: kimi-reviewer\n---\n"
        "You are a strict reviewer. REVIEWER-MARK\n"
    )
    # Claude Code's spelling of a mode; narrower than the session's --yolo, so it applies
    (agents / "careful.md").write_text(
        "---\nname: careful\ndescription: Edits, but asks before shell commands.\n"
        "permissionMode: default\n---\nBe careful.\n"
    )
    (agents / "planner.md").write_text(
        "---\nname: planner\ndescription: Plans only.\npermission_mode: plan\n---\nPlan.\n"
    )
    (agents / "broken.md").write_text("---\nname: [unclosed\n---\nbody\n")
    (agents / "nodesc.md").write_text("---\nname: nodesc\n---\nbody\n")
    typed = [
        {"name": "rev", "prompt": "Task rev: review.", "files": [], "type": "reviewer"},
        {"name": "exp", "prompt": "Task exp: explore.", "files": [], "type": "explore"},
        {"name": "cod", "prompt": "Task cod: code.", "files": ["c.md"], "type": "coder"},
        {"name": "car", "prompt": "Task car: edit.", "files": ["car.md"], "type": "careful"},
    ]
    bad = [{"name": "x", "prompt": "Task x: go.", "files": [], "type": "nodesc"}]
    wrong = [
        {"name": "y", "prompt": "Task y: go.", "files": ["y.md"], "type": "explore"},
        {"name": "z", "prompt": "Task z: go.", "files": ["z.md"], "type": "planner"},
    ]
    server = replay(
        script(
            (
                "^Split",
                [
                    turn(tool_calls=[call("spawn_agents", tasks=bad)]),
                    turn(tool_calls=[call("spawn_agents", tasks=wrong)]),
                    turn(tool_calls=[call("spawn_agents", tasks=typed)]),
                    turn("Done."),
                ],
            ),
            sub_agent("rev", [turn("rev: no yaml.load found.")]),
            sub_agent("exp", [turn("exp: explored.")]),
            sub_agent(
                "cod",
                [turn(tool_calls=[call("write_file", path="c.md", content="c\n")]), turn("cod.")],
            ),
            sub_agent(
                "car",
                [
                    turn(tool_calls=[call("run_shell", command="touch car-shell")]),
                    turn(tool_calls=[call("write_file", path="car.md", content="car\n")]),
                    turn("car."),
                ],
            ),
        )
    )
    res = kimicode("-p", "Split the review", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    bodies = requests_of(server)
    spawn = next(t for t in bodies[0]["tools"] if t["function"]["name"] == "spawn_agents")
    menu = spawn["function"]["description"]
    assert "`reviewer`: Reviews code for unsafe YAML loading." in menu
    assert "`explore`: Read-only" in menu and "`coder`" in menu
    assert "nodesc" not in menu and "broken" not in menu  # bad files are skipped
    results = [m["content"] for m in bodies[-1]["messages"] if m["role"] == "tool"]
    assert "unknown type 'nodesc'" in results[0]
    assert "type explore is read-only" in results[1] and "type planner is read-only" in results[1]
    rev = _sub_requests(server, "rev")[0]
    assert "REVIEWER-MARK" in rev["messages"][0]["content"]
    assert {t["function"]["name"] for t in rev["tools"]} == {"read_file", "grep"}
    # the type's model is the one its agent asks; the others keep the session's
    assert rev["model"] == "kimi-reviewer"
    assert _sub_requests(server, "cod")[0]["model"] == bodies[0]["model"] != "kimi-reviewer"
    exp = {t["function"]["name"] for t in _sub_requests(server, "exp")[0]["tools"]}
    assert "read_file" in exp and not exp & {"write_file", "edit_file", "run_shell"}
    assert "rev: no yaml.load found." in results[2] and "## cod: success, merged" in results[2]
    assert (repo / "c.md").read_text() == "c\n"
    # careful runs in mode default under a --yolo session: its shell command needs approval
    # (denied: nobody can approve), its edit is allowed and merged
    car = [m for m in _sub_requests(server, "car")[-1]["messages"] if m["role"] == "tool"]
    assert "needs approval in permission mode default" in str(car[0]["content"])
    assert "agent type careful" in str(car[0]["content"])
    assert not (repo / "car-shell").exists() and (repo / "car.md").read_text() == "car\n"
    assert "## car: success, merged" in results[2]


def test_config_show_lists_agent_types_and_skips_bad_files(repo: Path, kimicode) -> None:
    agents = repo / ".kimicode" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text("---\ndescription: Reviews.\n---\nReview.\n")
    (agents / "broken.md").write_text("no front matter\n")
    res = kimicode("config", "show", cwd=repo)
    assert res.code == 0, res
    assert "agent types: coder (built-in), explore (built-in), reviewer (" in res.stdout
    skipped = [line for line in res.stdout.splitlines() if line.startswith("agent type skipped")]
    assert len(skipped) == 1 and "broken.md" in skipped[0] and "front matter" in skipped[0]
