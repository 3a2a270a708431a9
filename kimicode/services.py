"""Per-run services that depend on the machine and the policy: approvals, sandbox.

Print mode and the TUI differ only in who answers "ask": nobody (a denial that
tells the model how the user can allow it) or a person.
"""

from __future__ import annotations

from typing import Any

from kimicode.config import Settings
from kimicode.tools.base import Approver


async def sandbox_extras(settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """Tool extras holding the shell sandbox (when one can run), and warnings to show."""
    from kimicode.trust.sandbox import probe

    found = await probe(settings.sandbox)
    extras = {"sandbox": found.sandbox} if found.sandbox is not None else {}
    return extras, [found.warning] if found.warning else []


async def print_mode_services(settings: Settings) -> tuple[Approver, dict[str, Any], list[str]]:
    """(approver, tool extras, warnings to show) for a non-interactive run."""
    from kimicode.trust.approvals import print_mode_approver
    from kimicode.trust.rules import PermissionRules

    root = settings.project_dir
    rules = PermissionRules(settings.permissions, root)
    approve = print_mode_approver(rules, settings.permissions.mode, root)
    extras, warnings = await sandbox_extras(settings)
    return approve, extras, warnings
