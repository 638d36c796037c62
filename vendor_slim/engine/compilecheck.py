"""The compile check: every file this tool writes compiles, with the emitted tree's own flags.

Run by extract on the tree it has written into its temporary folder, before that folder is put in
place: the API TU, the test TU, the generated headers and the launcher TUs' shared preamble (the
kernel instantiations themselves are `verify`'s build). The host pass only parses
(`-Xcompiler -fsyntax-only`); nvcc's front end still checks host and device code in full.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters import nvcc, proc
from vendor_slim.errors import CheckFailed

MAX_PARALLEL = 2  # a CUTLASS-heavy parse takes ~1 GB: two at a time fit any machine that builds the tree


@dataclass(frozen=True)
class CheckUnit:
    label: str  # what the user is told (a tree path, or what a probe stands for)
    source: str  # tree-relative path of the TU; empty for a probe
    probe: str  # the probe TU's text (includes of tool-written headers, the launcher preamble)
    include_dirs: tuple[str, ...]  # tree-relative
    defines: tuple[str, ...]
    flags: tuple[str, ...]  # std, gencode and the tree's extra CUDA flags


def _command(unit: CheckUnit, tree: Path, source: Path) -> list[str]:
    return [nvcc.nvcc_path(), "-c", "-x", "cu", *unit.flags, *(f"-I{tree / d}" for d in unit.include_dirs),
            *(f"-D{d}" for d in unit.defines), "-Xcompiler", "-fsyntax-only", str(source),
            "-o", str(source.parent / "vendor-slim-check.o")]


_ERROR = re.compile(r"(\berror\b|fatal error)", re.IGNORECASE)


def first_errors(output: str, tree: Path, limit: int = 12) -> str:
    """The first error lines of a compiler's output, each with the two lines after it (the source and
    caret), with the temporary folder's path stripped."""
    lines = output.replace(f"{tree}/", "").splitlines()
    keep: list[str] = []
    i = 0
    while i < len(lines) and len(keep) < limit:
        if _ERROR.search(lines[i]):
            keep += lines[i : i + 3]
            i += 3
        else:
            i += 1
    return "\n".join(keep[:limit] or lines[-limit:])


def compile_check(tree: Path, units: Sequence[CheckUnit]) -> float:
    """Compile each unit (at most MAX_PARALLEL at a time); CheckFailed naming the first that fails.
    Returns the seconds it took."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vendor-slim-check-") as tmp:
        def one(k: int, unit: CheckUnit) -> tuple[CheckUnit, proc.Completed]:
            work = Path(tmp) / str(k)
            work.mkdir()
            if unit.probe:
                source = work / "probe.cu"
                source.write_text(unit.probe)
            else:
                source = tree / unit.source
            return unit, proc.run(_command(unit, tree, source), what=f"compile check of {unit.label}",
                                  cwd=work, check=False, timeout=900)

        with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
            results = list(pool.map(lambda a: one(*a), enumerate(units)))
    for unit, done in results:
        if done.returncode != 0:
            raise CheckFailed(
                f"the tree this run would write does not compile: {unit.label} (nvcc exit {done.returncode}); "
                f"nothing was written to --out (skip this check with --no-compile-check):\n"
                + first_errors(done.output, tree))
    return time.monotonic() - start
