"""Golden copies of emitted files: compared whole, byte for byte, and rewritten by one command.

    VENDOR_SLIM_REGEN_GOLDEN=1 python -m pytest -q tests/test_golden.py

rewrites every golden folder under tests/golden/ from what the tool writes now; review the change
with `git diff tests/golden` like code. Only files the tool itself writes are kept (the lock says so:
no `origin`), never an upstream file, so nothing upstream is ever committed here.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN_ENV = "VENDOR_SLIM_REGEN_GOLDEN"
LOCK = "vendor.lock.json"


def regenerating() -> bool:
    return os.environ.get(REGEN_ENV) == "1"


def tool_written(tree: Path) -> dict[str, bytes]:
    """The emitted tree's tool-written files (lock entries without an upstream origin) and the lock."""
    lock = json.loads((tree / LOCK).read_text())
    keep = sorted(f["path"] for f in lock["files"] if f["origin"] is None)
    return {LOCK: (tree / LOCK).read_bytes(), **{p: (tree / p).read_bytes() for p in keep}}


def read_golden(name: str) -> dict[str, bytes]:
    folder = GOLDEN / name
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_golden(name: str, files: dict[str, bytes]) -> None:
    folder = GOLDEN / name
    shutil.rmtree(folder, ignore_errors=True)
    for rel, data in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    """One entry per file that is missing, extra or different (with the start of a unified diff)."""
    out: list[str] = []
    for rel in sorted(expected.keys() - actual.keys()):
        out.append(f"{rel}: in the golden copy, not written by the tool")
    for rel in sorted(actual.keys() - expected.keys()):
        out.append(f"{rel}: written by the tool, not in the golden copy")
    for rel in sorted(expected.keys() & actual.keys()):
        if expected[rel] != actual[rel]:
            diff = difflib.unified_diff(expected[rel].decode(errors="replace").splitlines(),
                                        actual[rel].decode(errors="replace").splitlines(),
                                        f"golden/{rel}", f"emitted/{rel}", lineterm="", n=1)
            out.append(f"{rel}: differs\n" + "\n".join(list(diff)[:30]))
    return out


def check(name: str, tree: Path) -> list[str]:
    """Compare the tree's tool-written files with tests/golden/NAME (or rewrite it when regenerating)."""
    actual = tool_written(tree)
    if regenerating():
        write_golden(name, actual)
        return []
    if not (GOLDEN / name).is_dir():
        return [f"no golden copy tests/golden/{name}: run {REGEN_ENV}=1 python -m pytest -q tests/test_golden.py"]
    return differences(read_golden(name), actual)
