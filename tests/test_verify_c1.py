"""verify on a C1-derived tree of a few real launcher TUs: a real CUTLASS SM90 build in CI.

C1's runner TU cannot build (a header is missing), so the tree holds only the launcher library:
two FP16 x INT4 FINEGRAINED launchers, one per TU (about 1-2 minutes and ~4.5 GB per TU at -j2).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import run_cli


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is needed to build the emitted tree")
def test_verify_builds_real_c1_launchers(c1_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "c1-kernels"
    r = run_cli("extract", "--trtllm", c1_root, "--out", out, "--kernels-only", "--max-kernels", "2", "--per-tu", "1")
    assert r.code == 0, r.err
    lock = json.loads((out / "vendor.lock.json").read_text())
    assert len(lock["kernels"]) == 2
    assert sorted(t["role"] for t in lock["tus"]).count("launcher") == 2
    assert {e["source"].rsplit("/", 1)[-1] for e in lock["link"]} == {
        "logger.cpp", "stringUtils.cpp", "tllmException.cpp"}
    r = run_cli("verify", out, "--json")
    assert r.code == 0, r.err + r.out
    rep = r.json()
    b = rep["build"]
    assert b["ok"] and b["link_ok"] and b["outside"] == [] and b["unused"] == []
    launchers = [t for t in b["tus"] if t["source"].startswith("src/generated/")]
    assert len(launchers) == 2 and all(t["peak_mb"] > 1000 for t in launchers)
