"""CMake and Ninja: configure and build an emitted tree, and read the dependencies Ninja recorded."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from vendor_slim.adapters.proc import Completed, run
from vendor_slim.errors import BadInput


def require(tool: str, hint: str) -> str:
    """The tool's path on PATH."""
    found = shutil.which(tool)
    if not found:
        raise BadInput(f"{tool} is not on PATH; {hint}")
    return found


def measure_launcher(logdir: Path) -> str:
    """A CMake launcher list that records each compile's time and memory (adapters/measure.py)."""
    # by file path: the build runs in a folder where vendor_slim may not be importable
    return f"{sys.executable};{Path(__file__).with_name('measure.py')};{logdir}"


def run_step(cmd: Sequence[str], what: str, cwd: Path | None = None, timeout: float | None = None) -> Completed:
    env = {"PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])}
    return run(cmd, what=what, cwd=cwd, env=env, timeout=timeout, check=False)


def ninja_deps(build: Path) -> dict[str, list[Path]]:
    """Object -> every file its compile read, as Ninja recorded from the compilers' depfiles."""
    ninja = require("ninja", "install it (pip install ninja)")
    done = run([ninja, "-C", str(build), "-t", "deps"], what="ninja -t deps")
    deps: dict[str, list[Path]] = {}
    current: list[Path] | None = None
    for line in done.output.splitlines():
        if not line.strip():
            current = None
            continue
        if not line.startswith((" ", "\t")) and ": #deps" in line:
            current = deps.setdefault(line.split(": #deps", 1)[0], [])
        elif current is not None:
            p = line.strip()
            current.append(Path(os.path.normpath(p if os.path.isabs(p) else build / p)))
    return deps


def exported_symbols(library: Path) -> list[str]:
    """Demangled names of the symbols a shared library exports (`nm -DC --defined-only`)."""
    nm = require("nm", "install binutils")
    done = run([nm, "-DC", "--defined-only", str(library)], what="nm")
    return sorted({line.split(" ", 2)[2] for line in done.output.splitlines() if line.count(" ") >= 2})
