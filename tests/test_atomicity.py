"""extract killed (SIGKILL) while it writes never leaves a partial tree at --out, never loses the
previous one, and the next run cleans what the killed one left beside --out (issue 6, item 2).

The synthetic tree carries a 32 MB LICENSE (copied into the emitted tree), so writing the temporary
tree takes long enough (~0.1 s) for a tight poll to catch it; no test hook in the tool is needed."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.synth import make_extract_tree
from vendor_slim.adapters.fs import exchange_dirs
from vendor_slim.engine.emit import write as emit
from vendor_slim.engine.emit.tree import OutFile

TMP = emit.TMP_PREFIX
BIG = 32 * 1024 * 1024


def _tree_bytes(d: Path) -> dict[str, str]:
    """Every file under D (relative path -> sha256), folders included as entries."""
    out: dict[str, str] = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def _lock_ok(d: Path) -> bool:
    """A whole tree: every file its lock lists, with its hash, and nothing else."""
    lock = json.loads((d / "vendor.lock.json").read_text())
    listed = {f["path"]: f["sha256"] for f in lock["files"]}
    present = {k: v for k, v in _tree_bytes(d).items() if v != "dir" and k != "vendor.lock.json"}
    return present == listed


class Extract:
    def __init__(self, up: Path, out: Path, cache: Path) -> None:
        self.up, self.out, self.cache = up, out, cache

    def cmd(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "vendor_slim", "extract", "--trtllm", str(self.up), "--rules",
                str(self.up / "rules.toml"), "--out", str(self.out), "--jobs", "1", *extra]

    def env(self) -> dict[str, str]:
        return {**os.environ, "VENDOR_SLIM_CACHE": str(self.cache)}

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cmd(*extra), env=self.env(), capture_output=True, text=True, timeout=300,
                              check=False)

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        # its own session: the kill takes any child process with it
        return subprocess.Popen(self.cmd(*extra), env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)


def _kill(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the run's process group; False when it had already finished."""
    alive = proc.poll() is None
    if alive:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return alive


def _stale(parent: Path) -> set[str]:
    return {n for n in os.listdir(parent) if n.startswith(".vendor-slim-")}


def _kill_when(ex: Extract, stage: str, extra: tuple[str, ...], deadline: float = 60.0) -> tuple[bool, bool]:
    """Start a run and kill it at STAGE: 'tmp' (its temporary tree appears), 'big' (the big file is
    being written into it), 'lock' (the lock is written: the swap is next). Returns (killed, hit)."""
    parent = ex.out.parent
    before = _stale(parent)
    proc = ex.start(*extra)
    start = time.monotonic()
    hit = False
    while proc.poll() is None and time.monotonic() - start < deadline:
        new = [n for n in _stale(parent) - before if n.startswith(TMP)]
        if new:
            tmp = parent / new[0]
            if stage == "tmp" or (
                stage == "big" and (tmp / "third_party/tensorrt_llm/LICENSE").exists()
            ) or (stage == "lock" and (tmp / "vendor.lock.json").exists()):
                hit = True
                break
    return _kill(proc), hit


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Extract, dict[str, str], dict[str, str]]:
    """A previous tree (fg) at --out, and what a complete run with --quant-op all writes."""
    base = tmp_path_factory.mktemp("atomic")
    up = make_extract_tree(base / "up")
    with open(up / "LICENSE", "ab") as f:
        f.write(b"\n" + b"x" * BIG)
    ex = Extract(up, base / "parent" / "out", base / "cache")
    ref = Extract(up, base / "ref" / "out", ex.cache)
    r = ref.run("--quant-op", "all")
    assert r.returncode == 0, r.stderr
    new = _tree_bytes(ref.out)
    r = ex.run()
    assert r.returncode == 0, r.stderr
    prev = _tree_bytes(ex.out)
    assert prev != new
    return ex, prev, new


def _check_whole(ex: Extract, prev: dict[str, str], new: dict[str, str]) -> str:
    """--out is the previous tree or the whole new one, byte for byte; which one."""
    now = _tree_bytes(ex.out)
    assert now in (prev, new), "a partial or damaged tree at --out"
    assert _lock_ok(ex.out)
    return "prev" if now == prev else "new"


def test_kill_while_writing_keeps_the_previous_tree(
    setup: tuple[Extract, dict[str, str], dict[str, str]],
) -> None:
    ex, prev, new = setup
    extra = ("--quant-op", "all", "--force")
    hits: list[str] = []
    for stage in ("lock", "tmp", "big", "tmp", "big"):
        killed, hit = _kill_when(ex, stage, extra)
        state = _check_whole(ex, prev, new)
        if killed and hit:
            hits.append(stage)
            assert any(n.startswith(TMP) for n in _stale(ex.out.parent)), "a killed run left no temporary tree"
        if state == "new":  # the run got through its swap: put the previous tree back for the next try
            r = ex.run("--force")
            assert r.returncode == 0 and "replaced" in r.stdout, r.stderr
    print(f"kills that hit the write window: {hits}")
    assert {"tmp", "big"} <= set(hits), f"the write window was never hit (hits: {hits})"
    # the next run cleans what the killed ones left and completes
    r = ex.run(*extra)
    assert r.returncode == 0, r.stderr
    assert _tree_bytes(ex.out) == new
    assert _stale(ex.out.parent) == set()


def test_kill_at_random_moments(setup: tuple[Extract, dict[str, str], dict[str, str]]) -> None:
    """Kills spread over a whole run (analysis, writing, swap, clean-up), at seeded random delays."""
    ex, prev, new = setup
    t0 = time.monotonic()
    r = ex.run("--force")  # back to the previous tree whatever the other test left; as long as a run
    full = time.monotonic() - t0
    assert r.returncode == 0 and _tree_bytes(ex.out) == prev
    extra = ("--quant-op", "all", "--force")
    rng = random.Random(6)
    for _ in range(4):
        # mostly the last third of the run, where it writes
        delay = full * (rng.uniform(0.6, 1.05) if rng.random() < 0.8 else rng.uniform(0.0, 0.6))
        proc = ex.start(*extra)
        time.sleep(delay)
        _kill(proc)
        if _check_whole(ex, prev, new) == "new":
            assert ex.run("--force").returncode == 0
    r = ex.run(*extra)
    assert r.returncode == 0 and _tree_bytes(ex.out) == new
    assert _stale(ex.out.parent) == set()


def test_kill_on_first_write_leaves_nothing_at_out(tmp_path: Path,
                                                   setup: tuple[Extract, dict[str, str], dict[str, str]]) -> None:
    """No previous tree: a killed run leaves --out absent (never half there), and the next run
    creates it whole."""
    ex0, _prev, new = setup
    ex = Extract(ex0.up, tmp_path / "p" / "out", ex0.cache)
    ex.out.parent.mkdir()
    for stage in ("tmp", "big"):
        killed, hit = _kill_when(ex, stage, ("--quant-op", "all"))
        if killed and hit:
            assert not ex.out.exists()
        elif ex.out.exists():
            assert _tree_bytes(ex.out) == new
            return
    r = ex.run("--quant-op", "all")
    assert r.returncode == 0 and _tree_bytes(ex.out) == new
    assert _stale(ex.out.parent) == set()


# ---------------------------------------------------------------------------------------------
# The swap itself, in process: where the kernel lacks an atomic exchange, a run killed between the
# two renames leaves --out absent and the previous tree in an old folder; the next run puts it back.


def _files(tree: dict[str, bytes]) -> list[OutFile]:
    return [OutFile(p, b, "doc", None, "x") for p, b in sorted(tree.items())]


_LOCK = json.dumps({"tool": {"name": "vendor-slim"}})


def test_replace_uses_an_atomic_exchange_on_linux(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2(RENAME_EXCHANGE) is Linux only")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f").write_text("A")
    (b / "f").write_text("B")
    if not exchange_dirs(a, b):
        pytest.skip("this file system or kernel has no RENAME_EXCHANGE; the two-rename fallback is tested below")
    assert (a / "f").read_text() == "B" and (b / "f").read_text() == "A"


def test_interrupted_fallback_swap_is_recovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert emit.write_tree(out, _files({"a.txt": b"old"}), _LOCK, force=False) == "created"
    before = _tree_bytes(out)

    class Killed(BaseException):
        pass

    real_replace = os.replace
    calls = []

    def replace_then_die(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append((src, dst))
        if len(calls) == 2:
            raise Killed  # between moving the old tree aside and moving the new one in
        real_replace(src, dst)

    monkeypatch.setattr(emit, "exchange_dirs", lambda a, b: False)
    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(Killed):
        emit.write_tree(out, _files({"a.txt": b"new"}), _LOCK, force=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert not out.exists()  # the state a kill at that instant leaves
    old = [p for p in tmp_path.iterdir() if p.name.startswith(emit.OLD_PREFIX)]
    assert len(old) == 1 and (old[0] / "out").is_dir()
    emit.clean_stale(tmp_path, "out")  # what the next run does first
    assert _tree_bytes(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".vendor-slim-")]
    assert emit.write_tree(out, _files({"a.txt": b"new"}), _LOCK, force=True) == "replaced"
    assert (out / "a.txt").read_bytes() == b"new"
