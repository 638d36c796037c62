"""Running the CLI as a user does: a real subprocess, exit code and streams."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*args: str | Path, cache: Path | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None, prefix: Sequence[str] = (), timeout: float | None = None) -> Result:
    """PREFIX runs before the interpreter (e.g. setpriv); TIMEOUT fails the test instead of hanging."""
    full = dict(os.environ)
    if cache is not None:
        full["VENDOR_SLIM_CACHE"] = str(cache)
    if env:
        full.update(env)
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "vendor_slim", *map(str, args)],
        capture_output=True, text=True, env=full, cwd=cwd, check=False, timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


_PROGRESS = re.compile(r"^vendor-slim: [^:]+: (done|stopped) \(")


def error_text(r: Result) -> str:
    """stderr without the progress lines of the stages that ran before the error."""
    return "".join(line for line in r.err.splitlines(keepends=True) if not _PROGRESS.match(line))


def no_traceback(r: Result) -> bool:
    return "Traceback" not in r.err and "Traceback" not in r.out


_DROP_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def permission_prefix() -> list[str] | None:
    """A command prefix under which file permission bits apply to the CLI.

    [] for an ordinary user; for root (which reads and writes anything), `setpriv` without the
    capabilities that bypass permission bits; None where root cannot drop them (tests then skip)."""
    if os.geteuid() != 0:
        return []
    try:
        ok = subprocess.run([*_DROP_DAC, "true"], capture_output=True, check=False).returncode == 0
    except OSError:
        ok = False
    return list(_DROP_DAC) if ok else None


NEEDS_PERMISSIONS = "running as root, and setpriv cannot drop CAP_DAC_OVERRIDE here: permission bits cannot deny root"


def mutate(base: dict[str, Any], path: list[str], value: object) -> dict[str, Any]:
    """A copy of nested TOML-like data with the value at `path` replaced (tables copied on the way)."""
    out = dict(base)
    cur = out
    for k in path[:-1]:
        nxt = cur.get(k)
        cur[k] = dict(nxt) if isinstance(nxt, dict) else {}
        cur = cur[k]
    cur[path[-1]] = value
    return out


# Hand edits of an emitted tree that its lock must catch: (case, file touched)
TAMPER_FILES = {"edit": "third_party/tensorrt_llm/syn/log.h", "delete": "third_party/tensorrt_llm/syn/types.h",
                "add": "third_party/tensorrt_llm/syn/new.h"}


def tamper(tree: Path, case: str) -> None:
    p = tree / TAMPER_FILES[case]
    if case == "edit":
        p.write_text(p.read_text() + "// edited\n")
    elif case == "delete":
        p.unlink()
    else:
        p.write_text("#pragma once\n")
