"""The tool's cache directory (generator output, parse results, analysis probes)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("VENDOR_SLIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vendor-slim"
    )
    return Path(base)


def hash_files(paths: Iterable[Path], *extra: str) -> str:
    """sha256 over the names and contents of files (sorted), plus extra strings."""
    h = hashlib.sha256()
    for p in sorted(set(paths)):
        h.update(str(p).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())  # unreadable: an error, not a silent miss
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()
