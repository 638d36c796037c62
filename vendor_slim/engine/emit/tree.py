"""The emitted tree's files and how analysis-time paths map into it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vendor_slim.errors import BadInput
from vendor_slim.layout import (
    UPSTREAM_DIRS,
)
from vendor_slim.models import EmitInput


@dataclass(frozen=True)
class OutFile:
    path: str  # relative to the emitted tree, posix
    data: bytes
    role: str
    origin: str | None  # upstream path relative to its root, for copied files
    license: str


def reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def read_upstream(path: Path) -> bytes:
    """An upstream file's bytes; an unreadable one is bad input naming it, not a crash."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path} cannot be read: {reason(exc)}") from exc


def map_dir(d: Path, inp: EmitInput, roots: dict[str, Path]) -> str | None:
    """An analysis-time include folder as a path inside the emitted tree."""
    if d == inp.staging or inp.staging in d.parents:
        return d.relative_to(inp.staging).as_posix()
    for name in ("cutlass", "trtllm"):  # CUTLASS may sit inside TensorRT-LLM: most specific first
        r = roots[name]
        if d == r or r in d.parents:
            rel = d.relative_to(r).as_posix()
            return UPSTREAM_DIRS[name] + ("" if rel == "." else f"/{rel}")
    return None


def tree_path(p: Path, inp: EmitInput, roots: dict[str, Path]) -> str:
    mapped = map_dir(p, inp, roots)
    if mapped is None:
        raise BadInput(f"{p} is neither an upstream file nor one this tool writes")
    return mapped


def upstream_root(inp: EmitInput, p: Path) -> Path:
    best = max((u.root for u in inp.upstreams if u.root in p.parents), key=lambda r: len(r.parts))
    return best
