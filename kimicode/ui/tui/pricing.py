"""Approximate cost of a conversation from token counts.

Tokens are kept per model (`UsageLedger`) so that after `/model` each turn stays
priced at the rate of the model that served it.

Prices are USD per million tokens (input, output) as published by the vendors;
they change, so the status bar shows the figure with a `~`. Unknown models
cost nothing rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "kimi-k2.5": (0.60, 3.00),
    "kimi-k2": (0.60, 2.50),
    "kimi-k2-turbo": (1.15, 8.00),
    "kimi-k2-thinking": (0.60, 2.50),
    "moonshot-v1": (2.00, 5.00),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4o-mini": (0.15, 0.60),
}


def price_for(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens; the longest known prefix of `model` wins."""
    name = model.lower().rsplit("/", 1)[-1]
    best = None
    for known in PRICES_PER_MILLION:
        if name.startswith(known) and (best is None or len(known) > len(best)):
            best = known
    return PRICES_PER_MILLION[best] if best else None


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    prices = price_for(model)
    if prices is None:
        return None
    return (prompt_tokens * prices[0] + completion_tokens * prices[1]) / 1_000_000


def format_tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 1_000:
        return f"{count / 1_000:.1f}k"
    return str(count)


def format_cost(cost: float | None) -> str:
    return "cost n/a" if cost is None else f"~${cost:.4f}" if cost < 0.01 else f"~${cost:.2f}"


@dataclass(slots=True)
class UsageLedger:
    by_model: dict[str, list[int]] = field(default_factory=dict)
    """model -> [prompt tokens, completion tokens]."""

    def add(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        counts = self.by_model.setdefault(model, [0, 0])
        counts[0] += prompt_tokens
        counts[1] += completion_tokens

    @property
    def prompt_tokens(self) -> int:
        return sum(c[0] for c in self.by_model.values())

    @property
    def completion_tokens(self) -> int:
        return sum(c[1] for c in self.by_model.values())

    def cost(self) -> float | None:
        """The sum over the models with a known price; None when none has one."""
        if not self.by_model:
            return 0.0
        costs = [estimate_cost(m, p, c) for m, (p, c) in self.by_model.items()]
        known = [c for c in costs if c is not None]
        return sum(known) if known else None
