"""Layouts beyond C1 and C2, each run through its real generator: the FlashInfer git checkout (when
VENDOR_SLIM_FLASHINFER_GIT names one) and a late-2025 TensorRT-LLM checkout laid out from C1's files."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli

GEN_2025 = "cpp/tensorrt_llm/kernels/cutlass_kernels/python/generate_kernels.py"


@pytest.fixture(scope="session")
def flashinfer_git() -> Path:
    env = os.environ.get("VENDOR_SLIM_FLASHINFER_GIT")
    if not env or not Path(env, "csrc/nv_internal").is_dir():
        pytest.skip("no FlashInfer git checkout: set VENDOR_SLIM_FLASHINFER_GIT to one with 3rdparty/cutlass populated "
                    "(see corpora.md)")
    return Path(env)


def _kernels(tree: Path, op: str) -> dict:
    r = run_cli("kernels", "--trtllm", tree, "--json", "--quant-op", op)
    assert r.code == 0, r.err
    return r.json()  # type: ignore[no-any-return]


def test_flashinfer_checkout_counts(flashinfer_git: Path) -> None:
    doc = _kernels(flashinfer_git, "fg")
    assert doc["source"]["layout"] == "flashinfer-git"
    assert doc["summary"]["total"] == 378 and doc["summary"]["selected"] == 21
    assert doc["summary"]["needed_by_runner"] == 21 and doc["summary"]["missing_for_runner"] == 0
    assert _kernels(flashinfer_git, "all")["summary"]["selected"] == 63


def test_flashinfer_checkout_runner_reports_its_missing_header(flashinfer_git: Path, tmp_path: Path) -> None:
    r = run_cli("extract", "--trtllm", flashinfer_git, "--out", tmp_path / "out")
    assert r.code == 2 and no_traceback(r), r.err
    assert "include chain:" in r.err and "fp16_int4_gemm_fg_scaleonly.cu" in r.err
    assert not (tmp_path / "out").exists()


def test_flashinfer_checkout_kernels_only_extract_passes_verify_no_build(flashinfer_git: Path, tmp_path: Path) -> (
    None
):
    out = tmp_path / "fi-kernels"
    r = run_cli("extract", "--trtllm", flashinfer_git, "--out", out, "--kernels-only")
    assert r.code == 0, r.err
    lock = json.loads((out / "vendor.lock.json").read_text())
    assert lock["upstream"]["trtllm"]["layout"] == "flashinfer-git" and len(lock["kernels"]) == 21
    cut = lock["upstream"]["cutlass"]
    assert cut["pinned"] and cut["commit"]  # CUTLASS is the checkout's submodule: its gitlink is recorded
    r = run_cli("verify", out, "--no-build", "--json")
    assert r.code == 0, r.err + r.out


def _trtllm_2025_from_c1(c1: Path, root: Path) -> Path:
    """A late-2025 TensorRT-LLM checkout's layout (cpp/, 3rdparty/cutlass, a generator script taking
    -a ARCHS and writing gemm/ARCH/), filled with C1's copies of those files; the generator script is
    a thin command line over C1's copy of TensorRT-LLM's generator."""
    shutil.copytree(c1 / "data/csrc/nv_internal", root / "cpp")
    shutil.copytree(c1 / "data/cutlass", root / "3rdparty/cutlass", ignore=shutil.ignore_patterns("examples", "test"))
    gen = root / GEN_2025
    shutil.copytree(c1 / "jit/gemm/cutlass", gen.parent / "c1_generator")
    gen.write_text(textwrap.dedent("""\
        import argparse, os, sys
        p = argparse.ArgumentParser()
        p.add_argument("-o", "--output_dir", required=True)
        p.add_argument("-a", "--architectures", required=True)
        a = p.parse_args()
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from c1_generator.generate_kernels import generate_gemm_operations
        generate_gemm_operations(a.output_dir, a.architectures)
        """))
    return root


@pytest.mark.c1
def test_late_2025_trtllm_layout_is_detected_and_generates(c1_root: Path, tmp_path: Path) -> None:
    tree = _trtllm_2025_from_c1(c1_root, tmp_path / "trtllm")
    doc = _kernels(tree, "fg")
    assert doc["source"]["layout"] == "trtllm-2025"
    assert doc["summary"]["total"] == 378 and doc["summary"]["selected"] == 21
    out = tmp_path / "out"
    r = run_cli("extract", "--trtllm", tree, "--out", out, "--kernels-only", "--max-kernels", "2")
    assert r.code == 0, r.err
    assert run_cli("verify", out, "--no-build").code == 0
