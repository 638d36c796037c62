"""verify on bad input (issue 6): exit 2 with one message naming the path, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli


def _minimal_tree(d: Path) -> Path:
    """The smallest tree whose lock checks out: it lists no files, and there are none."""
    d.mkdir()
    (d / "vendor.lock.json").write_text(json.dumps({"tool": {"name": "vendor-slim"}, "library": "x",
                                                    "files": [], "tus": []}))
    return d


def test_verify_missing_directory(tmp_path: Path) -> None:
    r = run_cli("verify", tmp_path / "nope")
    assert r.code == 2 and no_traceback(r) and f"{tmp_path / 'nope'} is not a directory" in r.err


def test_verify_corrupt_lock(tmp_path: Path) -> None:
    d = tmp_path / "t"
    d.mkdir()
    (d / "vendor.lock.json").write_text("{not json")
    r = run_cli("verify", d)
    assert r.code == 2 and no_traceback(r) and "is not a valid vendor-slim lock" in r.err
    assert str(d / "vendor.lock.json") in r.err


def test_verify_without_nvcc(tmp_path: Path) -> None:
    tools = {t: shutil.which(t) for t in ("cmake", "ninja")}
    if not all(tools.values()):
        pytest.skip("cmake and ninja are needed to get as far as the nvcc check")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, path in tools.items():
        (bindir / name).symlink_to(path)  # type: ignore[arg-type]
    tree = _minimal_tree(tmp_path / "t")
    # the /usr/local/cuda fallback is injected empty: nvcc is hidden even where CUDA is installed
    env = {"PATH": str(bindir), "CUDA_HOME": "", "CUDA_PATH": "", "VENDOR_SLIM_NVCC_FALLBACKS": ""}
    r = run_cli("verify", tree, "--jobs", "1", env=env)
    assert r.code == 2 and no_traceback(r), r.err
    assert "nvcc was not found" in r.err and "CUDA_HOME" in r.err
    assert sorted(os.listdir(tree)) == ["vendor.lock.json"]
