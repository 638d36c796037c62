"""A compiler launcher that records each compile's wall time, CPU time and peak memory.

CMake runs it as `CMAKE_<LANG>_COMPILER_LAUNCHER`: `python -m vendor_slim.adapters.measure LOGDIR
compiler args...`. It runs the compiler as its only child, so the child rusage after the wait is
exactly the compile's process tree (nvcc, cicc, ptxas, the host compiler): ru_maxrss is the peak of
the largest of them.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _after(args: list[str], flag: str) -> str:
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
    return ""


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m vendor_slim.adapters.measure LOGDIR COMPILER [ARGS...]", file=sys.stderr)
        return 2
    log = Path(argv[0])
    cmd = argv[1:]
    start = time.perf_counter()
    log.mkdir(parents=True, exist_ok=True)
    # a start marker: the caller's progress shows which compiles are running and for how long
    (log / f"{os.getpid()}.start").write_text(json.dumps({"source": _after(cmd, "-c"), "start": time.time()}))
    rc = subprocess.call(cmd)
    wall = time.perf_counter() - start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    log.mkdir(parents=True, exist_ok=True)
    record = {"output": _after(cmd, "-o"), "source": _after(cmd, "-c"), "rc": rc, "wall_s": round(wall, 3),
              "cpu_s": round(ru.ru_utime + ru.ru_stime, 3), "peak_mb": round(ru.ru_maxrss / 1024, 1)}
    (log / f"{os.getpid()}.json").write_text(json.dumps(record))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
