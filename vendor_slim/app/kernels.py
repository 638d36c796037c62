"""`kernels`: the generator's kernels, which the target selects and which its entry point needs."""

from __future__ import annotations

from vendor_slim.adapters.gitinfo import git_info
from vendor_slim.app.pipeline import kernels, load
from vendor_slim.app.settings import Settings
from vendor_slim.targets.base import Kernels


def run(settings: Settings) -> tuple[Kernels, str | None]:
    """The analysed kernels and the tree's commit (None outside git)."""
    ld = load(settings)
    return kernels(settings, ld), git_info(ld.src.path).commit
