"""Running the CLI as a user does: a real subprocess, exit code and streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
            cwd: Path | None = None) -> Result:
    full = dict(os.environ)
    if cache is not None:
        full["VENDOR_SLIM_CACHE"] = str(cache)
    if env:
        full.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "vendor_slim", *map(str, args)],
        capture_output=True, text=True, env=full, cwd=cwd, check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def no_traceback(r: Result) -> bool:
    return "Traceback" not in r.err and "Traceback" not in r.out
