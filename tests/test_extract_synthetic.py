"""extract and verify on a synthetic tree: link closure, stubs, device-only headers, output discipline,
and a real CMake + nvcc (sm_90a) build of the emitted tree."""

from __future__ import annotations

import filecmp
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli, tamper
from tests.synth import make_extract_tree


def _files(tree: Path) -> dict[str, bytes]:
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("extract")
    tree = make_extract_tree(base / "up")
    cache = base / "cache"
    out = base / "out" / "syn"
    r = run_cli("extract", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "all", "--out", out,
                cache=cache)
    assert r.code == 0, r.err
    assert "created" in r.out
    return tree, out, cache


def test_link_closure_takes_the_defining_source_only(extracted: tuple[Path, Path, Path]) -> None:
    _, out, _ = extracted
    lock = json.loads((out / "vendor.lock.json").read_text())
    assert [e["source"] for e in lock["link"]] == ["third_party/tensorrt_llm/syn/log.cpp"]
    assert lock["link"][0]["provides"] == ["syn::log_msg"]
    assert not (out / "third_party/tensorrt_llm/syn/unused.cpp").exists()


def test_tree_contents_stub_and_device_only_header(extracted: tuple[Path, Path, Path]) -> None:
    up, out, _ = extracted
    lock = json.loads((out / "vendor.lock.json").read_text())
    by_path = {f["path"]: f for f in lock["files"]}
    # every file but the lock is listed, and nothing else
    assert set(by_path) == set(_files(out)) - {"vendor.lock.json"}
    assert by_path["third_party/stubs/ExtProduct.h"]["role"] == "stub"
    assert "third_party/stubs/NobodyIncludes.h" not in by_path  # declared, absent, but read by no compile
    # read only by the device pass (under __CUDA_ARCH__), still vendored
    assert by_path["third_party/tensorrt_llm/syn/device_only.h"]["role"] == "header"
    # upstream files are byte-identical and keep their upstream relative path
    for f in lock["files"]:
        if f["origin"] and f["role"] in ("header", "source"):
            assert (out / f["path"]).read_bytes() == (up / f["origin"]).read_bytes()
            assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert by_path["third_party/tensorrt_llm/LICENSE"]["role"] == "license"
    assert len(lock["kernels"]) == 5
    cm = (out / "CMakeLists.txt").read_text()
    assert "-gencode=arch=compute_90a,code=sm_90a" in cm
    assert "add_library(synlib::synlib ALIAS synlib)" in cm
    assert "install(EXPORT synlibTargets" in cm
    assert str(up) not in json.dumps(lock)  # no machine paths
    config = (out / "include/synapi/config.h").read_text()
    assert "#define SYN_HAS_A 1" in config and "#define SYN_HAS_B 1" in config


def test_same_inputs_give_identical_trees(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    up, out, cache = extracted
    other = tmp_path / "again"
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--quant-op", "all", "--out", other,
                cache=cache)
    assert r.code == 0, r.err
    assert _files(other) == _files(out)
    again = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--quant-op", "all", "--out", other,
                    cache=cache)
    assert again.code == 0 and "unchanged" in again.out


def test_existing_different_tree_needs_force(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    up, out, cache = extracted
    target = tmp_path / "t"
    shutil.copytree(out, target)
    before = _files(target)
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", target, cache=cache)  # fg only
    assert r.code == 2 and "--force" in r.err and no_traceback(r)
    assert _files(target) == before
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", target, "--force", cache=cache)
    assert r.code == 0 and "replaced" in r.out
    assert "#define SYN_HAS_B 0" in (target / "include/synapi/config.h").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".vendor-slim-")]


@pytest.mark.parametrize("case", ["inside", "equal", "file", "symlink"])
def test_bad_out_is_refused_untouched(extracted: tuple[Path, Path, Path], tmp_path: Path, case: str) -> None:
    up, _, cache = extracted
    if case == "inside":
        out = up / "cpp" / "out"
    elif case == "equal":
        out = up
    elif case == "file":
        out = tmp_path / "f"
        out.write_text("mine")
    else:
        real = tmp_path / "real"
        real.mkdir()
        out = tmp_path / "link"
        out.symlink_to(real)
    before = sorted(p.as_posix() for p in up.rglob("*"))
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", out, cache=cache)
    assert r.code == 2 and no_traceback(r), r.err
    assert str(out) in r.err
    assert sorted(p.as_posix() for p in up.rglob("*")) == before
    if case == "file":
        assert out.read_text() == "mine"


def test_symlink_out_of_the_roots_is_refused(tmp_path: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    outside = tmp_path / "elsewhere.h"
    outside.write_text("#pragma once\n")
    (up / "cpp/syn/linked.h").symlink_to(outside)
    (up / "cpp/syn/types.h").write_text((up / "cpp/syn/types.h").read_text() + '#include "syn/linked.h"\n')
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", tmp_path / "o",
                cache=tmp_path / "cache")
    assert r.code == 2 and no_traceback(r)
    assert "syn/linked.h" in r.err and "symbolic link" in r.err
    assert not (tmp_path / "o").exists()


def test_symlink_inside_the_roots_is_followed(tmp_path: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    (up / "cpp/syn/real_extra.h").write_text("#pragma once\n")
    (up / "cpp/syn/linked.h").symlink_to(up / "cpp/syn/real_extra.h")
    (up / "cpp/syn/types.h").write_text((up / "cpp/syn/types.h").read_text() + '#include "syn/linked.h"\n')
    out = tmp_path / "o"
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", out, cache=tmp_path / "cache")
    assert r.code == 0, r.err
    linked = out / "third_party/tensorrt_llm/syn/linked.h"
    assert linked.is_file() and not linked.is_symlink()


# ---------------------------------------------------------------------------------------------
# verify: a real build with CMake, Ninja and nvcc for sm_90a


needs_build = pytest.mark.skipif(
    not (shutil.which("nvcc") or Path("/usr/local/cuda/bin/nvcc").exists()) or not shutil.which("cmake"),
    reason="nvcc and cmake are needed to build the emitted tree",
)


@needs_build
def test_verify_builds_the_emitted_tree(extracted: tuple[Path, Path, Path]) -> None:
    _, out, _ = extracted
    before = _files(out)
    r = run_cli("verify", out, "--json")
    assert r.code == 0, r.err + r.out
    rep = r.json()
    assert rep["ok"] and rep["lock"]["ok"]
    b = rep["build"]
    assert b["ok"] and b["link_ok"] and b["outside"] == [] and b["unused"] == []
    assert b["exported_outside_api"] == []  # symbol isolation is on by default
    sources = {t["source"] for t in b["tus"]}
    assert "third_party/tensorrt_llm/syn/log.cpp" in sources and "src/synapi.cu" in sources
    assert all(t["peak_mb"] > 0 for t in b["tus"])
    assert _files(out) == before  # verify writes nothing into the tree


def _tampered(out: Path, tmp: Path) -> Path:
    t = tmp / "t"
    shutil.copytree(out, t)
    return t


def _relock(tree: Path, edit: dict[str, bytes | None]) -> None:
    """Change files and update the lock to match, as a careless hand edit would."""
    lock = json.loads((tree / "vendor.lock.json").read_text())
    files = {f["path"]: f for f in lock["files"]}
    for rel, data in edit.items():
        if data is None:
            (tree / rel).unlink()
            files.pop(rel)
        else:
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            (tree / rel).write_bytes(data)
            files[rel] = {"path": rel, "origin": None, "sha256": hashlib.sha256(data).hexdigest(),
                          "size": len(data), "role": files.get(rel, {}).get("role", "header"), "license": "x"}
    lock["files"] = sorted(files.values(), key=lambda f: f["path"])
    (tree / "vendor.lock.json").write_text(json.dumps(lock))


@pytest.mark.parametrize("case,expect", [
    ("edit", "edited: third_party/tensorrt_llm/syn/log.h"),
    ("delete", "missing: third_party/tensorrt_llm/syn/types.h"),
    ("add", "not in the lock: third_party/tensorrt_llm/syn/new.h"),
])
def test_verify_lock_tampering(extracted: tuple[Path, Path, Path], tmp_path: Path, case: str, expect: str) -> None:
    _, out, _ = extracted
    t = _tampered(out, tmp_path)
    tamper(t, case)
    r = run_cli("verify", t, "--no-build")
    assert r.code == 1 and no_traceback(r)
    assert expect in r.err


@needs_build
def test_verify_finds_unused_header(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    t = _tampered(extracted[1], tmp_path)
    _relock(t, {"third_party/tensorrt_llm/syn/unused.h": b"#pragma once\n"})
    r = run_cli("verify", t)
    assert r.code == 1 and "not minimal" in r.err and "syn/unused.h" in r.err


@needs_build
def test_verify_finds_missing_header(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    t = _tampered(extracted[1], tmp_path)
    _relock(t, {"third_party/tensorrt_llm/syn/log.h": None})
    r = run_cli("verify", t)
    assert r.code == 1 and "the build failed" in r.err and "log.h" in r.err


@needs_build
def test_verify_finds_missing_link_source(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    t = _tampered(extracted[1], tmp_path)
    cm = (t / "CMakeLists.txt").read_text().replace("  third_party/tensorrt_llm/syn/log.cpp\n", "")
    _relock(t, {"third_party/tensorrt_llm/syn/log.cpp": None, "CMakeLists.txt": cm.encode()})
    r = run_cli("verify", t)
    assert r.code == 1 and "the build failed" in r.err and "log_msg" in r.err


def test_verify_not_an_emitted_tree(tmp_path: Path) -> None:
    r = run_cli("verify", tmp_path)
    assert r.code == 2 and "not a tree emitted by vendor-slim" in r.err and no_traceback(r)


def test_verify_without_cmake(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    r = run_cli("verify", extracted[1], env={"PATH": str(bindir)})
    assert r.code == 2 and "cmake is not on PATH" in r.err and no_traceback(r)


def test_verify_refuses_too_many_jobs_for_memory(extracted: tuple[Path, Path, Path]) -> None:
    r = run_cli("verify", extracted[1], "--jobs", "4096")
    assert r.code == 2 and "GB" in r.err and "--jobs" in r.err and no_traceback(r)


def test_identical_upstream_files_after_extract(extracted: tuple[Path, Path, Path]) -> None:
    up, out, _ = extracted
    assert filecmp.cmp(up / "cpp/syn/launcher.inl", out / "third_party/tensorrt_llm/syn/launcher.inl",
                       shallow=False)


@needs_build
def test_installed_package_is_found_by_find_package(extracted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """install/export rules: a consumer project finds the library with find_package and links it."""
    import subprocess

    from vendor_slim.adapters import nvcc

    _, out, _ = extracted
    cuda = f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}"
    build, prefix = tmp_path / "build", tmp_path / "prefix"
    for cmd in (["cmake", "-S", str(out), "-B", str(build), "-G", "Ninja", cuda, "-DSYNLIB_BUILD_TESTS=OFF"],
                ["cmake", "--build", str(build)], ["cmake", "--install", str(build), "--prefix", str(prefix)]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (build / "compile_commands.json").is_file()
    app = tmp_path / "app"
    app.mkdir()
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(app LANGUAGES CXX CUDA)\n"
        "find_package(synlib REQUIRED)\nadd_executable(app main.cpp)\n"
        "target_link_libraries(app PRIVATE synlib::synlib)\n")
    (app / "main.cpp").write_text('#include "synapi/synapi.h"\nint main() { return synapi::run(0); }\n')
    for cmd in (["cmake", "-S", str(app), "-B", str(app / "b"), "-G", "Ninja", cuda, f"-DCMAKE_PREFIX_PATH={prefix}"],
                ["cmake", "--build", str(app / "b")]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (app / "b" / "app").is_file()


def test_emitted_readme_shows_the_commands_verify_runs(extracted: tuple[Path, Path, Path]) -> None:
    from vendor_slim.layout import BENCH, BUILD, CONFIGURE, command

    readme = (extracted[1] / "README.md").read_text()
    vals = {"src": ".", "build": "build", "jobs": "4", "test": "synlib_test"}
    for step in (CONFIGURE, BUILD, BENCH):
        assert " ".join(command(step, **vals)) in readme
