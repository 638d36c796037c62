"""extract on the real trees: C1 stops with the missing header's chain; C2 gives a tree whose vendored
files are exactly what nvcc -M reads for the emitted TUs, with the computed link closure."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli
from vendor_slim.adapters import nvcc

FIVE = {
    "tensorrt_llm/common/logger.cpp",
    "tensorrt_llm/common/stringUtils.cpp",
    "tensorrt_llm/common/tllmException.cpp",
    "tensorrt_llm/kernels/cutlass_kernels/cutlass_heuristic.cpp",
    "tensorrt_llm/kernels/cutlass_kernels/cutlass_preprocessors.cpp",
}


def test_c1_extract_names_the_missing_header_and_writes_nothing(c1_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_cli("extract", "--trtllm", c1_root, "--out", out)
    assert r.code == 2 and no_traceback(r), r.err
    assert "gemm_universal_base_compat.h" in r.err and "include chain:" in r.err
    assert "fp16_int4_gemm_fg_scaleonly.cu" in r.err and "fpA_intB_gemm_template.h" in r.err
    assert not out.exists()
    assert not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def c2_tree(c2_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("c2") / "w4a16-sm90"
    r = run_cli("extract", "--trtllm", c2_root, "--out", out)
    assert r.code == 0, r.err
    return out


def test_c2_link_closure_is_computed(c2_tree: Path) -> None:
    lock = json.loads((c2_tree / "vendor.lock.json").read_text())
    chosen = {e["source"].removeprefix("third_party/tensorrt_llm/") for e in lock["link"]}
    assert chosen == FIVE
    assert not (c2_tree / "third_party/tensorrt_llm/tensorrt_llm/common/assert.cpp").exists()
    assert len(lock["kernels"]) == 21
    roles = {t["role"] for t in lock["tus"]}
    assert roles == {"runner", "launcher", "gemv", "api", "link"}
    gemv = [t["path"] for t in lock["tus"] if t["role"] == "gemv"]
    assert [p.rsplit("/", 1)[-1] for p in gemv] == ["kernelDispatcherFp16Int4GroupwiseColumnMajorFalse.cu"]
    assert lock["gemv"]["max_m"] == 4


def test_c2_files_are_byte_identical_and_listed(c2_tree: Path, c2_root: Path) -> None:
    lock = json.loads((c2_tree / "vendor.lock.json").read_text())
    listed = {f["path"] for f in lock["files"]}
    present = {p.relative_to(c2_tree).as_posix() for p in c2_tree.rglob("*") if p.is_file()}
    assert listed == present - {"vendor.lock.json"}
    upstream = [f for f in lock["files"] if f["origin"]]
    assert len(upstream) > 400
    for f in upstream:
        base = c2_root / "3rdparty/cutlass" if f["path"].startswith("third_party/cutlass/") else c2_root
        assert (c2_tree / f["path"]).read_bytes() == (base / f["origin"]).read_bytes(), f["path"]
    assert lock["upstream"]["cutlass"]["commit"] == "19b4c5e065e7e5bbc8082dfc7dbd792bdac850fc"


def test_c2_two_runs_are_identical(c2_tree: Path, c2_root: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    r = run_cli("extract", "--trtllm", c2_root, "--out", again)
    assert r.code == 0, r.err
    a = {p.relative_to(c2_tree): p.read_bytes() for p in c2_tree.rglob("*") if p.is_file()}
    b = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert a == b


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is needed to configure the emitted tree")
def test_c2_vendored_files_are_exactly_what_nvcc_reads(c2_tree: Path, tmp_path: Path) -> None:
    """Configure the emitted tree (no compile), then run `-M` with each TU's real compile flags."""
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(c2_tree), "-B", str(build), "-G", "Ninja",
                    f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}"], check=True, capture_output=True)
    read: set[Path] = set()
    for entry in json.loads((build / "compile_commands.json").read_text()):
        argv = shlex.split(entry["command"])
        keep = [a for i, a in enumerate(argv) if a.startswith(("-I", "-D", "-isystem")) or
                (i > 0 and argv[i - 1] == "-isystem")]
        src = Path(entry["file"])
        lang = "cu" if src.suffix == ".cu" else "cxx"
        read |= {p for p in nvcc.oracle_dependencies(lang, keep, src) if c2_tree in p.parents}
    lock = json.loads((c2_tree / "vendor.lock.json").read_text())
    compiled = {c2_tree / f["path"] for f in lock["files"] if f["role"] in ("header", "source", "generated", "stub")}
    assert {p.relative_to(c2_tree) for p in compiled - read} == set()  # nothing unused
    assert {p.relative_to(c2_tree) for p in read - compiled} == set()  # nothing missing


def test_emitted_readme_shows_the_commands_verify_runs(c2_tree: Path) -> None:
    from vendor_slim.layout import BUILD, CONFIGURE, command

    readme = (c2_tree / "README.md").read_text()
    vals = {"src": ".", "build": "build", "jobs": "4", "test": "w4a16_sm90_test"}
    assert " ".join(command(CONFIGURE, **vals)) in readme
    assert " ".join(command(BUILD, **vals)) in readme


def _linked_copy(c2_root: Path, dest: Path) -> Path:
    """A copy of C2 made of hard links (fast, no space); a file replaced in it leaves C2 untouched."""
    subprocess.run(["cp", "-al", str(c2_root), str(dest)], check=True)
    return dest


HEADER = "cpp/include/tensorrt_llm/common/stringUtils.h"  # read by every TU of the target


def test_c2_symlink_out_of_the_roots_is_refused(c2_root: Path, tmp_path: Path) -> None:
    tree = _linked_copy(c2_root, tmp_path / "c2")
    outside = tmp_path / "outside" / "stringUtils.h"
    outside.parent.mkdir()
    outside.write_bytes((c2_root / HEADER).read_bytes())
    (tree / HEADER).unlink()
    (tree / HEADER).symlink_to(outside)
    out = tmp_path / "out"
    r = run_cli("extract", "--trtllm", tree, "--out", out)
    assert r.code == 2 and no_traceback(r), r.err
    assert "symbolic link" in r.err and str(tree / HEADER) in r.err and "include chain:" in r.err
    assert not out.exists()


def test_c2_symlink_inside_the_roots_is_followed(c2_root: Path, tmp_path: Path) -> None:
    tree = _linked_copy(c2_root, tmp_path / "c2")
    real = tree / "cpp/include/tensorrt_llm/common/stringUtils_real.h"
    real.write_bytes((c2_root / HEADER).read_bytes())
    (tree / HEADER).unlink()
    (tree / HEADER).symlink_to(real)
    out = tmp_path / "out"
    r = run_cli("extract", "--trtllm", tree, "--out", out)
    assert r.code == 0, r.err
    vendored = out / "third_party/tensorrt_llm/include/tensorrt_llm/common/stringUtils.h"
    assert vendored.is_file() and not vendored.is_symlink()
    assert vendored.read_bytes() == (c2_root / HEADER).read_bytes()
    lock = json.loads((out / "vendor.lock.json").read_text())
    assert "third_party/tensorrt_llm/include/tensorrt_llm/common/stringUtils.h" in {f["path"] for f in lock["files"]}
