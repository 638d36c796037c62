"""JSON documents of the contract, built from analysis results (kept out of the CLI to stay testable)."""

from __future__ import annotations

from typing import Any

from vendor_slim.models import ClosureReport
from vendor_slim.targets.base import Kernels


def kernels_json(rep: Kernels, commit: str | None) -> dict[str, Any]:
    """`kernels --json`: each target writes its own kernel records."""
    return rep.document(commit)


def closure_json(report: ClosureReport, oracle: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The contract's `closure --json` object (oracle differences when given)."""
    return {
        "roots": {"trtllm": str(report.roots.trtllm), "cutlass": str(report.roots.cutlass)},
        "tus": [
            {"source": str(c.source), "role": c.role, "lang": c.lang, "args": list(c.args),
             "files": [str(f) for f in c.files], "external": [str(f) for f in c.external],
             "unresolved": list(c.unresolved)}
            for c in report.tus
        ],
        "union": [str(f) for f in report.union],
        "oracle": oracle if oracle is not None else {"missing": [], "extra": []},
    }
