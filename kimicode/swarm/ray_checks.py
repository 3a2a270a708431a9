"""Before a Ray swarm: Ray installed, the cluster reachable, every node able to run it.

`preflight` runs when the session starts (exit 2 before any model call when the
address does not answer); `connect` and `check_nodes` when the swarm starts,
before any agent: every alive node must run this kimicode version and have git,
or the run stops with one error naming each node and what it lacks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import kimicode
from kimicode.config import RaySettings
from kimicode.errors import UsageError

CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = "install it with: pip install 'kimicode[ray]'"
HEAD = "node:__internal_head__"
"""The resource only the head node has (Ray >= 2.9): where the run's actors live."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(f'[swarm] backend = "ray" needs Ray, which is not installed; '
                         f"{INSTALL_HINT}") from None  # fmt: skip
    return ray


async def preflight(settings: RaySettings) -> None:
    """Ray is installed and the cluster's address answers, or a usage error (exit 2) now."""
    import_ray()
    address = settings.address
    if address == "auto":
        return  # Ray finds a local cluster itself, and says so quickly when there is none
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            _, writer = await asyncio.open_connection(host.strip("[]"), int(port))
        writer.close()
    except (OSError, TimeoutError, ValueError) as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        raise UsageError(
            f"cannot reach the Ray cluster at [swarm.ray] address = {address!r}: {reason}"
        ) from None


def connect(ray: Any, address: str) -> None:
    if ray.is_initialized():
        return
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(
            f"cannot reach the Ray cluster at [swarm.ray] address = {address!r}: {exc}"
        ) from None


async def check_nodes(ray: Any) -> None:
    """Every alive node runs this kimicode and has git, or no agent starts."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    probe = ray.remote(num_cpus=0)(_probe_entry)
    refs = [
        probe.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
        ).remote()
        for n in nodes
    ]
    answers = await asyncio.gather(*refs)
    problems = []
    for node, answer in zip(nodes, answers, strict=True):
        where = node.get("NodeManagerAddress", node["NodeID"][:12])
        if answer["version"] != kimicode.__version__:
            problems.append(
                f"node {where} runs kimicode {answer['version']}, this machine "
                f"{kimicode.__version__}"
            )
        if not answer["git"]:
            problems.append(f"node {where} has no git")
    if problems:
        raise UsageError("the Ray cluster cannot run this swarm: " + "; ".join(problems))


def _probe_entry() -> dict[str, Any]:
    from kimicode.swarm.ray_node import probe_node

    return probe_node()
