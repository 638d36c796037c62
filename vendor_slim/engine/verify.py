"""Verify an emitted tree: lock integrity, hermetic build, minimality, link completeness, GPU run.

The build runs the commands the tree's README shows (vendor_slim.layout), in a fresh build folder
outside the tree, so it proves what a user would see. Ninja's recorded dependencies (from the
compilers' depfiles) say what every compile read: everything must lie in the tree, the build
folder, the CUDA toolkit or the system, and every vendored file must be read by some compile.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vendor_slim.adapters import cmake
from vendor_slim.adapters.clock import Clock, monotonic
from vendor_slim.adapters.fs import file_sha256
from vendor_slim.adapters.memory import MemoryProbe, mem_available_gb
from vendor_slim.adapters.nvcc import nvcc_path
from vendor_slim.adapters.progress import Stage, stage
from vendor_slim.errors import BadInput
from vendor_slim.layout import BENCH, BUILD, CONFIGURE, LOCK_NAME, command, kept_by_user, test_program
from vendor_slim.models import Lock

TU_PEAK_GB = 8.6  # a CUTLASS SM90 launcher TU peaks at up to this much memory (nvcc 13.0)
SYSTEM_PREFIXES = ("/usr/", "/lib/", "/lib64/", "/opt/")
VENDORED_ROLES = ("header", "source", "stub", "generated")


@dataclass
class LockCheck:
    ok: bool = True
    edited: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


@dataclass
class TUCost:
    source: str
    wall_s: float
    cpu_s: float
    peak_mb: float


@dataclass
class BuildCheck:
    ok: bool = False
    jobs: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    tus: list[TUCost] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # files read from outside the tree and the system
    unused: list[str] = field(default_factory=list)  # vendored files no compile read
    link_ok: bool = False
    exported_outside_api: list[str] = field(default_factory=list)  # with isolation: must stay empty
    log_tail: str = ""


@dataclass
class VerifyReport:
    dir: str
    lock: LockCheck
    build: BuildCheck | None = None
    run: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def read_lock(tree: Path) -> Lock:
    if not tree.is_dir():
        raise BadInput(f"{tree} is not a directory")
    path = tree / LOCK_NAME
    if not path.is_file():
        raise BadInput(f"{tree} is not a tree emitted by vendor-slim (no {LOCK_NAME})")
    try:
        return Lock.from_json(json.loads(path.read_text()))
    except (ValueError, OSError) as exc:  # LockError is a ValueError, as is a JSON syntax error
        raise BadInput(f"{path} is not a valid vendor-slim lock ({exc})") from exc


def check_lock(tree: Path, lock: Lock) -> LockCheck:
    res = LockCheck()
    listed = {f.path: f for f in lock.files}
    for rel, f in sorted(listed.items()):
        p = tree / rel
        if not p.is_file():
            res.missing.append(rel)
        elif file_sha256(p) != f.sha256:
            res.edited.append(rel)
    for p in sorted(tree.rglob("*")):
        rel = p.relative_to(tree).as_posix()
        if (p.is_file() or p.is_symlink()) and rel != LOCK_NAME and rel not in listed and not kept_by_user(rel, False):
            res.extra.append(rel)
    res.ok = not (res.edited or res.missing or res.extra)
    return res


def choose_jobs(requested: int | None, n_heavy: int, memory: MemoryProbe = mem_available_gb,
                cores: int | None = None) -> int:
    """Parallel compiles that fit in memory: a heavy (CUTLASS launcher) TU needs up to TU_PEAK_GB."""
    mem = memory()
    fit = max(1, math.floor(mem / TU_PEAK_GB))
    cores = cores or os.cpu_count() or 1
    if requested is None:
        return max(1, min(cores, fit))
    if n_heavy and min(requested, n_heavy) > fit:
        raise BadInput(f"--jobs {requested} needs up to {min(requested, n_heavy) * TU_PEAK_GB:.0f} GB "
                       f"({TU_PEAK_GB} GB per CUTLASS TU) but {mem:.1f} GB is available; use --jobs {fit}")
    return requested


def _inside(p: Path, roots: list[Path]) -> bool:
    return any(p == r or r in p.parents for r in roots)


def build_tree(tree: Path, lock: Lock, jobs: int, keep: Path | None = None,
               clock: Clock = monotonic) -> tuple[BuildCheck, Path]:
    """Configure and build from a fresh folder; check hermeticity, minimality, link completeness."""
    cmake_bin = cmake.require("cmake", "install CMake >= 3.18 (pip install cmake)")
    cmake.require("ninja", "install Ninja (pip install ninja)")
    nvcc = nvcc_path()
    build = keep or Path(tempfile.mkdtemp(prefix="vendor-slim-verify-"))
    logdir = build / "vendor-slim-measure"
    res = BuildCheck(jobs=jobs)
    vals = {"src": str(tree), "build": str(build), "jobs": str(jobs)}
    configure = command(CONFIGURE, **vals)
    configure[0] = cmake_bin
    launcher = cmake.measure_launcher(logdir)
    configure += [f"-DCMAKE_CUDA_COMPILER={nvcc}", f"-DCMAKE_CUDA_COMPILER_LAUNCHER={launcher}",
                  f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}"]
    done = cmake.run_step(configure, "cmake configure")
    if done.returncode != 0:
        res.log_tail = "\n".join(done.output.splitlines()[-30:])
        return res, build
    step = command(BUILD, **vals)
    step[0] = cmake_bin
    start = clock()
    with stage("compiling", total=_compile_count(build)) as st:
        stop = threading.Event()
        watcher = threading.Thread(target=_watch_compiles, args=(logdir, tree, st, stop), daemon=True)
        watcher.start()
        try:
            done = cmake.run_step(step, "cmake --build")
        finally:
            stop.set()
            watcher.join()
        _compile_progress(logdir, tree, st)
    res.wall_s = round(clock() - start, 1)
    for rec_path in sorted(logdir.glob("*.json")):
        rec = json.loads(rec_path.read_text())
        src = rec["source"]
        rel = os.path.relpath(src, tree) if os.path.isabs(src) else src
        res.tus.append(TUCost(rel, rec["wall_s"], rec["cpu_s"], rec["peak_mb"]))
    res.tus.sort(key=lambda t: -t.wall_s)
    res.cpu_s = round(sum(t.cpu_s for t in res.tus), 1)
    res.peak_mb = max((t.peak_mb for t in res.tus), default=0.0)
    if done.returncode != 0:
        res.log_tail = "\n".join(done.output.splitlines()[-40:])
        return res, build
    res.ok = True
    res.link_ok = True  # the shared library linked with --no-undefined, and the test program linked
    ns = lock.api_namespace
    so = build / f"lib{lock.library or ''}.so"
    if ns and so.is_file():
        linker_defined = {"_init", "_fini", "_edata", "_end", "__bss_start"}
        res.exported_outside_api = [n for n in cmake.exported_symbols(so)
                                    if not n.startswith(f"{ns}::") and n not in linker_defined]
    deps = cmake.ninja_deps(build)
    real_tree = Path(os.path.realpath(tree))
    cuda_root = Path(os.path.realpath(nvcc)).parent.parent
    allowed = [real_tree, Path(os.path.realpath(build)), cuda_root]
    read: set[Path] = set()
    outside: set[str] = set()
    for files in deps.values():
        for f in files:
            real = Path(os.path.realpath(f))
            if _inside(real, [real_tree]):
                read.add(real)
            elif not (_inside(real, allowed) or str(real).startswith(SYSTEM_PREFIXES)):
                outside.add(str(f))
    res.outside = sorted(outside)
    res.unused = sorted(
        f.path for f in lock.files
        if f.role in VENDORED_ROLES and Path(os.path.realpath(tree / f.path)) not in read
    )
    return res, build


def _compile_count(build: Path) -> int | None:
    """How many compiles the build will run (those through the measuring launcher)."""
    try:
        done = cmake.run_step([cmake.require("ninja", "install Ninja (pip install ninja)"), "-C", str(build), "-t",
                               "commands"], "ninja -t commands")
    except Exception:  # only the progress display needs it
        return None
    return sum(1 for line in done.output.splitlines() if "measure.py" in line) or None


def _compile_progress(logdir: Path, tree: Path, st: Stage) -> None:
    """done/total from the launcher's records; the detail names the compile running longest."""
    done = {p.stem for p in logdir.glob("*.json")}
    running: list[tuple[float, str]] = []
    for p in logdir.glob("*.start"):
        if p.stem in done:
            continue
        try:
            rec = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        src = str(rec.get("source", ""))
        rel = os.path.relpath(src, tree) if os.path.isabs(src) else src
        running.append((float(rec.get("start", 0.0)), rel))
    detail = ""
    if running:
        since, rel = min(running)
        detail = f"{len(running)} running; slowest {rel} ({time.time() - since:.0f} s)"
    st.update(done=len(done), detail=detail)


def _watch_compiles(logdir: Path, tree: Path, st: Stage, stop: threading.Event) -> None:
    reported: set[str] = set()
    while not stop.wait(1.0):
        _compile_progress(logdir, tree, st)
        for p in logdir.glob("*.json"):
            if p.stem not in reported:
                reported.add(p.stem)
                try:
                    rec = json.loads(p.read_text())
                    src = str(rec.get("source", ""))
                    rel = os.path.relpath(src, tree) if os.path.isabs(src) else src
                    st.advance(0, item=f"{rel} ({rec.get('wall_s', 0):.0f} s, {rec.get('peak_mb', 0):.0f} MB)")
                except (OSError, ValueError):
                    pass


def run_tests(build: Path, library: str) -> dict[str, Any]:
    """Run the emitted test-and-benchmark program; its JSON report is the result."""
    prog = build / test_program(library)
    if not prog.is_file():
        raise BadInput(f"{prog} was not built (is {library.upper()}_BUILD_TESTS off?)")
    cmd = command(BENCH, build=str(build), test=test_program(library))
    done = cmake.run_step(cmd, "the emitted test program", timeout=3600)
    result: dict[str, Any] = {"command": cmd, "returncode": done.returncode,
                              "output_tail": "\n".join(done.output.splitlines()[-60:])}
    out = build / "results.json"
    if out.is_file():
        result["results"] = json.loads(out.read_text())
    return result


def verify(tree: Path, *, jobs: int | None, no_build: bool, run: bool, keep_build: Path | None = None,
           memory: MemoryProbe = mem_available_gb, clock: Clock = monotonic) -> VerifyReport:
    tree = tree.absolute()
    lock = read_lock(tree)
    report = VerifyReport(dir=str(tree), lock=check_lock(tree, lock))
    lk = report.lock
    for what, items in (("edited", lk.edited), ("missing", lk.missing), ("not in the lock", lk.extra)):
        if items:
            report.problems.append(f"{len(items)} file(s) {what}: {', '.join(items[:10])}")
    if no_build or report.problems:
        return report
    heavy = sum(1 for t in lock.tus if t.get("role") in ("launcher", "runner"))
    n = choose_jobs(jobs, heavy, memory)
    build_res, build = build_tree(tree, lock, n, keep_build, clock)
    report.build = build_res
    try:
        if not build_res.ok:
            report.problems.append(f"the build failed:\n{build_res.log_tail}")
            return report
        if build_res.outside:
            report.problems.append(f"not hermetic: compiles read {len(build_res.outside)} file(s) from outside the "
                                   f"tree: {', '.join(build_res.outside[:10])}")
        if build_res.exported_outside_api:
            report.problems.append(f"not isolated: the shared library exports {len(build_res.exported_outside_api)} "
                                   f"symbol(s) outside the API namespace: "
                                   f"{', '.join(build_res.exported_outside_api[:5])}")
        if build_res.unused:
            report.problems.append(f"not minimal: {len(build_res.unused)} vendored file(s) no compile reads: "
                                   f"{', '.join(build_res.unused[:10])}")
        if run:
            library = _library(lock)
            report.run = run_tests(build, library)
            if report.run["returncode"] != 0:
                report.problems.append(f"the test program failed (exit {report.run['returncode']}):\n"
                                       f"{report.run['output_tail']}")
    finally:
        if keep_build is None:
            shutil.rmtree(build, ignore_errors=True)
    return report


def _library(lock: Lock) -> str:
    lib = lock.library
    if not lib:
        raise BadInput("the lock names no library")
    return lib


