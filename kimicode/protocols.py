"""The seams, as Protocols: what the core needs from a model, a tool and an event sink.

Anything with these shapes plugs in, and the type checker says whether it
does: `OpenAIChatModel` and the tests' scripted models are `ChatModel`s, every
tool (the `kimicode.tools.base.Tool` base class, MCP tools) is a `Tool`, and
any callable taking an event is an `EventSink` (the `EventBus`, a renderer, a
list's `append`). A model's optional abilities are Protocols of their own,
checked with `isinstance`, never reached for with `getattr`:

- `PreparesModel.prepare()`: do slow set-up (imports, a connection pool) ahead
  of the first call, in a thread, while the repository map is built.
- `SwitchesModel.for_model(name)`: the same endpoint and connection pool with
  another model (the TUI's /model, `[swarm] model`).
- `LimitedModel.scheduler`: the endpoint's `RequestLimiter`, shared by every
  agent of a session (its figures go into the JSON result).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from kimicode.events import EventSink
from kimicode.llm.types import Completion, Delta, Message

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kimicode.tools.base import ToolContext, ToolResult

__all__ = [
    "ChatModel",
    "EventSink",
    "LimitedModel",
    "PreparesModel",
    "RequestLimiter",
    "SwitchesModel",
    "Tool",
]


class ChatModel(Protocol):
    """Anything that turns a history and tool schemas into one assistant turn."""

    model: str

    async def complete(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[Delta], None] | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
        on_throttle: Callable[[Any], None] | None = None,
    ) -> Completion:
        """Stream one turn and return it whole.

        Retries transient failures itself (calling `on_retry(attempt, wait_s,
        reason)` before each wait); deltas of a failed attempt are discarded by
        the caller when a retry starts, so nothing is duplicated. A rate-limit
        refusal waits in the endpoint's scheduler instead, calling
        `on_throttle(Throttled)` each time and `on_throttle(None)` once through.
        Raises `ModelError` / `TemporaryModelError` when it gives up.
        """
        ...


@runtime_checkable
class PreparesModel(Protocol):
    """A model with slow set-up worth doing before the first call."""

    def prepare(self) -> None: ...


@runtime_checkable
class SwitchesModel(Protocol):
    """A model that can hand out a twin for another model name on the same endpoint."""

    def for_model(self, model: str) -> ChatModel: ...


class RequestLimiter(Protocol):
    """One endpoint's limit on requests in flight, as the model client uses it.

    `kimicode.llm.scheduler.RequestScheduler` is the one in-process implementation.
    The calls are the whole contract, so a limiter shared by many processes (an
    actor behind a local proxy) can stand in for it: only `acquire` waits; the
    others are told facts and may forward them without waiting for an answer.
    """

    limit: int
    """Requests allowed in flight now (shown to the user when it was cut)."""
    wait_budget: float
    """`[retry] rate_limit_wait`: seconds of refusals with no answer before giving up."""

    async def acquire(self, *, front: bool = False) -> float:
        """Wait for a slot and take it; the seconds waited. `front`: a refused one, first."""
        ...

    def release(self, *, answered: bool = False) -> None:
        """Give the slot back; `answered`: the request got through (progress)."""
        ...

    def refused(self, retry_after: float | None, attempt: int, max_backoff: float = 60.0) -> float:
        """The request holding a slot was refused (before `release`); seconds to back off."""
        ...

    def stalled_for(self) -> float:
        """Seconds since the first refusal with no answer getting through after it."""
        ...

    def figures(self) -> dict[str, float | int]:
        """throttled, lowest_limit, limit, start_limit, wait_s: for the JSON result."""
        ...


@runtime_checkable
class LimitedModel(Protocol):
    """A model whose requests go through its endpoint's shared limiter."""

    scheduler: RequestLimiter


class Tool(Protocol):
    """What the loop needs of a tool: a name, an arguments model, a schema, a run."""

    name: ClassVar[str]
    read_only: ClassVar[bool]
    """True when the tool cannot change files or run anything (plan mode offers only these)."""
    network: ClassVar[bool]
    """True when the tool reaches outside the machine: it asks first, read-only or not."""
    wire_name: ClassVar[str | None]
    """The name the model calls it by when that differs from `name` (`$web_search`)."""

    @property
    def Params(self) -> type[BaseModel]:
        """The pydantic model the arguments are validated with."""
        ...

    @property
    def available(self) -> bool:
        """False while the tool cannot run (a dead MCP server): it leaves the request."""
        ...

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool schema the model sees."""
        ...

    def summary(self, params: Any) -> str:
        """One line for approvals and UIs."""
        ...

    async def run(self, params: Any, ctx: ToolContext) -> ToolResult: ...
