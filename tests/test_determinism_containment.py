"""Determinism (issue 6, item 3) and containment (item 4) of extract, on synthetic trees.

Determinism: the same inputs from another machine-shaped place (other tree path, cache, HOME, TMPDIR,
working directory) give byte-identical trees; the lock holds no absolute path of the machine, no
timestamp, and its lists are sorted.
Containment: extract writes only into --out, its cache directory and TMPDIR (and leaves TMPDIR as it
found it); the upstream tree, a git checkout with a stale index, is not touched, not even its
.git/index."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.synth import make_extract_tree


def _run(args: list[str | Path], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("VENDOR_SLIM_CACHE", "XDG_CACHE_HOME", "TMPDIR")}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "vendor_slim", *map(str, args)], env=full, cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def _machine(base: Path, *, xdg_only: bool = False) -> dict[str, Path]:
    """Fresh HOME, cache, TMPDIR and working directory under BASE."""
    dirs = {k: base / k for k in ("home", "xdg", "cache", "tmp", "cwd")}
    for d in dirs.values():
        d.mkdir(parents=True)
    if xdg_only:
        dirs.pop("cache")
        (base / "cache").rmdir()
    return dirs


def _env(m: dict[str, Path]) -> dict[str, str]:
    env = {"HOME": str(m["home"]), "XDG_CACHE_HOME": str(m["xdg"]), "TMPDIR": str(m["tmp"])}
    if "cache" in m:
        env["VENDOR_SLIM_CACHE"] = str(m["cache"])
    return env


def _files(tree: Path) -> dict[str, bytes]:
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for k, v in doc.items() for s in (k, *_strings(v))]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


def _snapshot(root: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every path under ROOT with size, mtime, mode and (files) content hash; links not followed."""
    out: dict[str, tuple[int, int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
            out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns, st.st_mode, digest)
    return out


# ---------------------------------------------------------------------------------------------
# Determinism


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """The same synthetic tree at two paths, extracted on two 'machines' (all paths differ)."""
    base = tmp_path_factory.mktemp("det")
    outs: list[Path] = []
    machine_paths: list[Path] = []
    for i, quant_ops in enumerate((["all"], ["pc", "fg"])):
        m = _machine(base / f"m{i}")
        up = make_extract_tree(base / f"m{i}" / f"upstream-{i}")
        out = base / f"m{i}" / "out" / "tree"
        args: list[str | Path] = ["extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", out]
        for q in quant_ops:
            args += ["--quant-op", q]
        r = _run(args, env=_env(m), cwd=m["cwd"])
        assert r.returncode == 0, r.stderr
        outs.append(out)
        machine_paths += [up, *m.values(), out]
    return outs[0], outs[1], machine_paths


def test_same_inputs_anywhere_give_identical_trees(two_runs: tuple[Path, Path, list[Path]]) -> None:
    a, b, _ = two_runs
    assert _files(a) == _files(b)


def test_lock_holds_no_machine_paths_and_no_timestamps(two_runs: tuple[Path, Path, list[Path]]) -> None:
    a, _, machine = two_runs
    text = (a / "vendor.lock.json").read_text()
    for p in [*machine, Path.home(), Path(sys.executable).parent, Path.cwd()]:
        assert str(p) not in text, f"{p} in the lock"
    lock = json.loads(text)
    absolute = [s for s in _strings(lock) if s.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", s)]
    assert absolute == []
    assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d", text), "a date or time in the lock"
    assert not [k for k in _strings(lock) if re.search(r"time|date|host|user", k, re.I)]
    # nor in the other files the tool writes
    for rel, data in _files(a).items():
        if not rel.startswith("third_party/"):
            for p in machine:
                assert str(p).encode() not in data, f"{p} in {rel}"


def test_lock_lists_are_sorted(two_runs: tuple[Path, Path, list[Path]]) -> None:
    lock = json.loads((two_runs[0] / "vendor.lock.json").read_text())
    paths = [f["path"] for f in lock["files"]]
    assert paths == sorted(paths) and len(set(paths)) == len(paths)
    tus = [t["path"] for t in lock["tus"]]
    assert tus == sorted(tus)
    link = [e["source"] for e in lock["link"]]
    assert link == sorted(link) and all(e["provides"] == sorted(e["provides"]) for e in lock["link"])
    assert lock["quant_ops"] == sorted(lock["quant_ops"])

    def tu_number(tu: str) -> int:
        return int(re.findall(r"\d+", tu)[-1])

    kernels = lock["kernels"]
    key = [(tu_number(k["tu"]), k["cta"], k["cluster"], k["quant_op"]) for k in kernels]
    assert key == sorted(key), "kernels not in (TU, CTA, cluster, quant op) order"
    assert len(kernels) == 5


# ---------------------------------------------------------------------------------------------
# Containment


def _git(tree: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
                   cwd=tree, check=True, capture_output=True)


@pytest.mark.parametrize("cache_from", ["VENDOR_SLIM_CACHE", "XDG_CACHE_HOME"])
def test_extract_writes_only_to_out_cache_and_tmp(tmp_path: Path, cache_from: str) -> None:
    m = _machine(tmp_path / "m", xdg_only=cache_from == "XDG_CACHE_HOME")
    up = make_extract_tree(tmp_path / "up")
    has_git = shutil.which("git") is not None
    if has_git:
        _git(up, "init", "-q")
        _git(up, "add", "-A")
        _git(up, "commit", "-q", "-m", "synthetic")
        # a stale index entry (same content, newer mtime): `git diff` would rewrite .git/index
        st = (up / "cpp/syn/log.h").stat()
        os.utime(up / "cpp/syn/log.h", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    before = _snapshot(up)
    out = tmp_path / "outparent" / "tree"
    r = _run(["extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", out, "--jobs", "2"],
             env=_env(m), cwd=m["cwd"])
    assert r.returncode == 0, r.stderr
    after = _snapshot(up)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [], f"the upstream tree changed: {changed}"
    assert os.listdir(m["cwd"]) == [], "written into the working directory"
    assert os.listdir(m["home"]) == [], "written into HOME"
    assert os.listdir(m["tmp"]) == [], "left files in TMPDIR"
    assert os.listdir(out.parent) == ["tree"]
    if cache_from == "XDG_CACHE_HOME":
        assert os.listdir(m["xdg"]) == ["vendor-slim"] and any((m["xdg"] / "vendor-slim").iterdir())
    else:
        assert os.listdir(m["xdg"]) == [] and any(m["cache"].iterdir())
    assert sorted(os.listdir(tmp_path)) == ["m", "outparent", "up"]
    if has_git:
        lock = json.loads((out / "vendor.lock.json").read_text())
        assert lock["upstream"]["trtllm"]["commit"] and lock["upstream"]["trtllm"]["dirty"] is False
