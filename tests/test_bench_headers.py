"""The shared test-program headers (vendor_slim/bench_cli.h, vendor_slim/tactics.h), compiled with the host
C++ compiler into tests/cpp/tactics_driver.cpp and run: tactics round trip, malformed lines, other GPUs,
flag errors. No CUDA needed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import vendor_slim
from vendor_slim.targets.trtllm_fpaintb.rulefile import RULES_DIR

HEADERS = Path(vendor_slim.__file__).parent / "targets" / "common" / "templates" / "include"
DRIVER = Path(__file__).parent / "cpp" / "tactics_driver.cpp"
H200 = "NVIDIA_H200:sm90:132"
HEADER = "vendor-slim-tactics v1\n"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        pytest.skip("no host C++ compiler (g++ / c++ / $CXX)")
    exe = tmp_path_factory.mktemp("drv") / "tactics_driver"
    done = subprocess.run([cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O0", f"-I{HEADERS}",
                           str(DRIVER), "-o", str(exe)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return exe


def run(driver: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(driver), *map(str, args)], capture_output=True, text=True, timeout=60)


def test_roundtrip_is_equal_and_byte_stable(driver: Path, tmp_path: Path) -> None:
    f = tmp_path / "tactics.txt"
    r = run(driver, "roundtrip", f)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "same_entries 1 same_bytes 1 other_gpu 2 other_hidden 1" in r.stdout
    # the bundle's choice is the faster backend's line
    assert "best 16 28672 8192 128 u4b8 NVIDIA_H200:sm90:132 machete " in r.stdout
    text = f.read_text()
    lines = text.splitlines()
    assert lines[0] == HEADER.strip()
    entries = [ln for ln in lines if ln and not ln.startswith("#")][1:]
    # sorted by GPU, backend, quant, N, K, group, M; times with three decimals (1e-9 us kept as 1 ns)
    assert entries[0].startswith("2 4096 4096 64 fgz NVIDIA_H100_80GB_HBM3:sm90:132 trtllm gemv 0.333")
    assert entries[1].endswith(" 0.001")
    assert entries[-2:] == [f"1 28672 8192 128 fg {H200} trtllm gemv 48.400",
                            f"16 28672 8192 128 fg {H200} trtllm sm90_t64x16x64_c1x1x1_pingpong 96.200"]
    assert not list(tmp_path.glob("*.tmp*")), "the temporary file of the atomic save was left behind"


def test_load_keeps_other_gpus_and_warns_once(driver: Path, tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text(HEADER + "# a comment\n\n"
                 f"1 4096 4096 128 fg {H200} trtllm gemv 10.5  # trailing comment\n"
                 "1 4096 4096 128 fg NVIDIA_H100_PCIe:sm90:114 trtllm gemv 12\n"
                 "2 4096 4096 128 fg NVIDIA_H100_PCIe:sm90:114 trtllm gemv 13\n")
    r = run(driver, "load", f, H200)
    assert r.returncode == 0, r.stderr
    assert "existed 1 entries 3 other_gpu 2" in r.stdout
    assert r.stdout.count("found ") == 1 and f"found 1 4096 4096 128 fg {H200} trtllm gemv 10.500" in r.stdout
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1, r.stderr
    assert "2 entries for another GPU (NVIDIA_H100_PCIe:sm90:114) ignored" in warnings[0]


def test_save_preserves_other_gpus_entries(driver: Path, tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    other = "1 4096 4096 128 fg NVIDIA_H100_PCIe:sm90:114 trtllm gemv 12.000"
    f.write_text(HEADER + other + "\n")
    r = run(driver, "put", f, H200, 1, 4096, 4096, 128, "fg", "trtllm", "gemv", "9.25")
    assert r.returncode == 0 and "put 1" in r.stdout, r.stderr
    assert other in f.read_text() and f"1 4096 4096 128 fg {H200} trtllm gemv 9.250" in f.read_text()
    r = run(driver, "put", f, H200, 1, 4096, 4096, 128, "fg", "trtllm", "other_cfg", "9.5")
    assert "put 0" in r.stdout  # slower than the line already there: kept
    r = run(driver, "put", f, H200, 1, 4096, 4096, 128, "fg", "trtllm", "faster_cfg", "8")
    assert "put 1" in r.stdout and "faster_cfg 8.000" in f.read_text() and "gemv 9.250" not in f.read_text()


def test_missing_file_is_an_empty_table(driver: Path, tmp_path: Path) -> None:
    r = run(driver, "load", tmp_path / "absent.txt", H200)
    assert r.returncode == 0 and "existed 0 entries 0" in r.stdout


@pytest.mark.parametrize(("body", "line", "why"), [
    (HEADER + f"1 4096 4096 128 fg {H200} trtllm gemv\n", 2, "want 9 fields"),
    (HEADER + "# ok\n" + f"1 4096 x 128 fg {H200} trtllm gemv 3\n", 3, "K 'x' is not a positive integer"),
    (HEADER + f"0 4096 4096 128 fg {H200} trtllm gemv 3\n", 2, "M '0' is not a positive integer"),
    (HEADER + f"1 4096 4096 128 fg {H200} trtllm gemv -3\n", 2, "US '-3' is not a positive number"),
    (HEADER + f"1 4096 4096 128 fg {H200} trtllm gemv nan\n", 2, "US 'nan'"),
    (HEADER + f"1 4096 4096 128 fg {H200} trtllm gemv 3\n\n1 4096 4096 128 fg {H200} trtllm c2 4\n", 4,
     "the same shape, GPU and backend as line 2"),
    ("vendor-slim-tactics v2\n", 1, "tactics format 'vendor-slim-tactics v2' is not the one"),
    (f"1 4096 4096 128 fg {H200} trtllm gemv 3\n", 1, "not a tactics file"),
    ("", 1, "empty file"),
])
def test_malformed_line_exits_2_with_its_line_number(driver: Path, tmp_path: Path, body: str, line: int,
                                                     why: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(body)
    r = run(driver, "load", f, H200)
    assert r.returncode == 2
    assert f"error: {f}:{line}: " in r.stderr and why in r.stderr, r.stderr


def test_flags_parse(driver: Path, tmp_path: Path) -> None:
    r = run(driver, "cli", "--m", "1,16", "--n=28672", "--k", "8192", "--group_size", "128", "--check", "--bench",
            "--config", "gemv", "--tactics", tmp_path / "t.txt", "--json", "r.json", "--quick", "--ops=fg")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == ["shape 1 28672 8192", "shape 16 28672 8192"]
    for want in ("group_size 128", "check 1", "bench 1", "config gemv", f"tactics {tmp_path / 't.txt'}",
                 "json r.json", "quick 1", "ops fg", "list_configs 0"):
        assert want in r.stdout.splitlines()
    shapes = tmp_path / "shapes.txt"
    shapes.write_text("# M N K\n1 4096 4096\n\n  4096 8192 28672  # big\n")
    r = run(driver, "cli", "--shapes", shapes, "--list-configs")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == ["shape 1 4096 4096", "shape 4096 8192 28672"]
    assert "list_configs 1" in r.stdout
    r = run(driver, "cli", "--help")
    assert r.returncode == 0 and "--tactics FILE" in r.stdout and "--ops LIST" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--m", "1"], "--m needs all of --m, --n and --k (missing: --n --k)"),
    (["--m", "1", "--n", "64", "--k", "0"], "--k: '0' is not a positive integer"),
    (["--m", "1,,2", "--n", "64", "--k", "64"], "--m: '' is not a positive integer"),
    (["--m", "1", "--m", "2"], "--m given twice"),
    (["--group-size", "-1"], "--group-size: '-1' is not a non-negative integer"),
    (["--json"], "--json needs a value"),
    (["--config="], "--config needs a non-empty value"),
    (["--check=yes"], "--check takes no value"),
    (["--frobnicate"], "unknown option --frobnicate"),
    (["stray"], "unexpected argument 'stray'"),
    (["--ops", "xx"], "--ops: unknown op list 'xx'"),
    (["--m", "1", "--n", "64", "--k", "64", "--shapes", "s.txt"], "--shapes and --m/--n/--k exclude each other"),
    (["--shapes", "/nonexistent/shapes.txt"], "--shapes: cannot read /nonexistent/shapes.txt"),
])
def test_flag_errors_exit_2_naming_the_flag(driver: Path, args: list[str], message: str) -> None:
    r = run(driver, "cli", *args)
    assert r.returncode == 2
    assert f"tactics_driver: error: {message}" in r.stderr, r.stderr


def test_bad_shapes_line_names_file_and_line(driver: Path, tmp_path: Path) -> None:
    f = tmp_path / "shapes.txt"
    f.write_text("1 4096 4096\n# fine\n2 4096\n")
    r = run(driver, "cli", "--shapes", f)
    assert r.returncode == 2 and f"error: {f}:3: want 'M N K'" in r.stderr, r.stderr
    f.write_text("# only comments\n")
    r = run(driver, "cli", "--shapes", f)
    assert r.returncode == 2 and f"error: {f}: no shape in the file" in r.stderr


def _trtllm_test_dir() -> Path:
    """The TensorRT-LLM target's test-program templates (package data of the target)."""
    return RULES_DIR / "templates" / "w4a16_sm90" / "test"


@pytest.fixture(scope="module")
def trtllm_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        pytest.skip("no host C++ compiler (g++ / c++ / $CXX)")
    exe = tmp_path_factory.mktemp("trt") / "trtllm_cli"
    done = subprocess.run([cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-O0", f"-I{HEADERS}",
                           f"-I{_trtllm_test_dir()}", str(DRIVER.parent / "trtllm_cli_driver.cpp"), "-o", str(exe)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return exe


def test_trtllm_program_flags(trtllm_cli: Path) -> None:
    r = run(trtllm_cli, "--m", "1,4096", "--n", "28672", "--k", "8192", "--group-size", "128", "--ops", "fg,fgz,fg",
            "--tol", "1e-3", "--quick", "--tactics", "t.txt", "--config", "gemv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["shape 1 28672 8192", "shape 4096 28672 8192", "group_size 128",
                                     "config gemv", "tactics t.txt", "quick 1", "tol 0.001", "ops fg fgz"]
    r = run(trtllm_cli, "--help")
    assert r.returncode == 0
    for flag in ("--shapes FILE", "--tactics FILE", "--list-configs", "--ops LIST", "--quick", "--tol X"):
        assert flag in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--ops", "fg,xx"], "--ops: unknown op 'xx' (use fg, pc, fgz)"),
    (["--tol", "0"], "--tol: '0' is not a number in (0, 1]"),
    (["--m", "1", "--n", "100", "--k", "128"], "shape 1 100 128: N and K must be multiples of 64"),
    (["--group-size", "96"], "--group-size: 96 is not a multiple of 64"),
    (["--m", "1", "--n", "64", "--k", "192", "--group-size", "128"], "--group-size: 128 does not divide K = 192"),
    (["--json"], "--json needs a value"),
])
def test_trtllm_program_flag_errors(trtllm_cli: Path, args: list[str], message: str) -> None:
    r = run(trtllm_cli, *args)
    assert r.returncode == 2
    assert f"w4a16_sm90_test: error: {message}" in r.stderr, r.stderr


def test_shared_headers_go_only_where_a_template_includes_them() -> None:
    from vendor_slim.targets.common_files import shared_files

    assert shared_files(['#include "w4a16_sm90/w4a16_sm90.h"\n']) == []
    got = shared_files(['#include "vendor_slim/tactics.h"\n'])
    assert [rel for rel, _ in got] == ["include/vendor_slim/tactics.h"]
    assert got[0][1] == (HEADERS / "vendor_slim" / "tactics.h").read_text()
    both = shared_files(['#include "vendor_slim/bench_cli.h"', '#include "vendor_slim/tactics.h"'])
    assert [rel for rel, _ in both] == ["include/vendor_slim/bench_cli.h", "include/vendor_slim/tactics.h"]
