"""JSON documents of the contract, built from analysis results (kept out of the CLI to stay testable)."""

from __future__ import annotations

from typing import Any

from vendor_slim.targets.base import Kernels


def kernels_json(rep: Kernels, commit: str | None) -> dict[str, Any]:
    """`kernels --json`: each target writes its own kernel records."""
    return rep.document(commit)
