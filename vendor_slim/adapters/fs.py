"""Writing files so that an interrupted run never leaves a half-written one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vendor_slim.errors import BadInput


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"cannot write {path}: {parent} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
