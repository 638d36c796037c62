"""One typed Settings object: what the command line asked for, read once by the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vendor_slim.adapters.cache import cache_dir
from vendor_slim.models import Shape
from vendor_slim.targets.base import Options


@dataclass(frozen=True)
class Settings:
    """The inputs of every command that reads an upstream tree."""

    tree: Path
    """The upstream tree (--trtllm): a TensorRT-LLM checkout or a FlashInfer package folder."""
    target: str | None = None
    """--target NAME; None: chosen from the tree's layout (targets/registry.py)."""
    cutlass: Path | None = None
    """--cutlass: CUTLASS from elsewhere than the tree's own copy."""
    rules: Path | None = None
    """--rules: the target's rules file (default: the one it ships)."""
    quant_ops: tuple[str, ...] = ()
    """--quant-op values as given (the target expands `all`)."""
    jobs: int = 1
    """Parallel parses."""
    only: tuple[str, ...] = ()
    """closure --only: TU roles to keep (empty: all)."""
    shape: Shape = field(default_factory=Shape)
    """extract --kernels-only / --max-kernels / --per-tu."""
    cache: Path = field(default_factory=cache_dir)
    """The tool's cache folder (VENDOR_SLIM_CACHE)."""

    def options(self) -> Options:
        return Options(rules=self.rules, variants=self.quant_ops,
                       overrides=(("cutlass", self.cutlass),) if self.cutlass is not None else (),
                       shape=self.shape)
