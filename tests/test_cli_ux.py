"""The CLI as a user meets it (issue 13): progress on stderr only, global options anywhere, `why`,
the emitted tree used as its README says and as a dependency, static symbol isolation, `sync`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Result, no_traceback, run_cli
from tests.synth import make_extract_tree
from vendor_slim.adapters import nvcc

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("ninja") is None,
                                 reason="cmake and ninja are needed")

APP = """\
#include "synapi/synapi.h"
#include <cstdio>
int main() { std::fflush(stdout); synapi::run(-1); return 0; }
"""
FOREIGN = """\
#include <cstdio>
namespace syn { void log_msg(char const* what) { std::printf("FOREIGN %s\\n", what); } }
"""


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("ux")
    root = make_extract_tree(base / "up")
    return {"up": root, "rules": root / "rules.toml", "cache": base / "cache", "base": base}


def _extract(u: dict[str, Path], out: Path, *more: str) -> Result:
    r = run_cli("extract", "--trtllm", u["up"], "--rules", u["rules"], "--out", out, *more, cache=u["cache"])
    assert r.code == 0, r.err
    return r


def _files(tree: Path) -> dict[str, str]:
    return {p.relative_to(tree).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tree.rglob("*")) if p.is_file()}


def _sh(*cmd: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_progress_goes_to_stderr_and_never_to_stdout(up: dict[str, Path], tmp_path: Path) -> None:
    """A cold run shows one line per stage on stderr (not a terminal here); stdout stays the JSON document."""
    r = run_cli("extract", "--trtllm", up["up"], "--rules", up["rules"], "--out", tmp_path / "t", "--json",
                cache=tmp_path / "cache")
    assert r.code == 0, r.err
    doc = r.json()  # stdout is exactly one JSON document
    assert doc["state"] == "created" and doc["kernels"] == 2
    assert "vendor-slim: runner analysis" in r.err and "vendor-slim: writing the tree: done" in r.err
    assert "vendor-slim:" not in r.out
    # -q silences it, before or after the subcommand; -v adds a line per item
    quiet = run_cli("-q", "closure", "--trtllm", up["up"], "--rules", up["rules"], "--json", cache=tmp_path / "c2")
    assert quiet.code == 0 and quiet.err == "" and json.loads(quiet.out)["tus"]
    verbose = run_cli("closure", "--trtllm", up["up"], "--rules", up["rules"], "--json", "-v",
                      cache=tmp_path / "c3")
    assert verbose.code == 0 and "include closure (libclang parses): runner_a.cu" in verbose.err
    assert json.loads(verbose.out)["tus"]


def test_debug_after_the_subcommand(tmp_path: Path) -> None:
    plain = run_cli("verify", tmp_path / "nope", "--no-build")
    assert plain.code == 2 and no_traceback(plain)
    for args in (("verify", tmp_path / "nope", "--no-build", "--debug"), ("--debug", "verify", tmp_path / "nope")):
        r = run_cli(*args)
        assert r.code != 0 and "Traceback" in r.err, args


def test_why_matches_chains_json_and_not_read(up: dict[str, Path]) -> None:
    r = run_cli("why", "log.h", "--trtllm", up["up"], "--rules", up["rules"], "--json", cache=up["cache"])
    assert r.code == 0, r.err
    doc = r.json()
    (m,) = doc["matches"]
    chain = m["chain"]
    assert m["file"] == "cpp/syn/log.h" and chain[-1]["file"] == "cpp/syn/log.h" and chain[-1]["line"] is None
    assert chain[0]["role"] and all(isinstance(s["line"], int) and s["line"] > 0 for s in chain[:-1])
    assert not any("staging" in s["file"] or s["file"].startswith("/") for s in chain)  # no cache paths
    text = run_cli("why", "log.h", "--trtllm", up["up"], "--rules", up["rules"], cache=up["cache"])
    assert text.code == 0 and f"{chain[0]['file']}:{chain[0]['line']}" in text.out
    missing = run_cli("why", "no/such.h", "--trtllm", up["up"], "--rules", up["rules"], cache=up["cache"])
    assert missing.code == 1 and "not read by any TU" in missing.err and no_traceback(missing)


@needs_cmake
def test_a_tree_built_per_its_readme_still_verifies_publishes_and_extracts(up: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _extract(up, tree)
    assert (tree / ".gitignore").read_text().count("/build/") == 1
    readme = (tree / "README.md").read_text()
    assert "cmake -S . -B build" in readme
    # the README's configure step, run from inside the tree: build/ appears in it
    _sh("cmake", "-S", ".", "-B", "build", "-G", "Ninja", f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}", cwd=tree)
    assert any((tree / "build").iterdir())
    r = run_cli("verify", tree, "--no-build", "--json")
    assert r.code == 0, r.out + r.err
    assert r.json()["lock"]["extra"] == []
    again = run_cli("extract", "--trtllm", up["up"], "--rules", up["rules"], "--out", tree, "--json",
                    cache=up["cache"])
    assert again.code == 0 and again.json()["state"] == "unchanged", again.err
    pub = run_cli("publish", tree, "--json")
    assert pub.code == 0, pub.err
    assert pub.json()["state"] == "published"
    tracked = _sh("git", "-C", tree, "ls-files").split()
    assert not [p for p in tracked if p.startswith("build/")] and ".gitignore" in tracked
    # a different tree replaces it with --force, and the user's build folder comes along
    forced = run_cli("extract", "--trtllm", up["up"], "--rules", up["rules"], "--out", tree, "--per-tu", "1",
                     "--force", cache=up["cache"])
    assert forced.code == 0, forced.err
    assert (tree / "build" / "CMakeCache.txt").is_file() and (tree / ".git").is_dir()


@needs_cmake
def test_add_subdirectory_parent_keeps_its_build_type_and_builds_no_test(up: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    _extract(up, parent / "synlib")
    (parent / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(parent LANGUAGES CXX CUDA)\n"
        "add_subdirectory(synlib)\nadd_executable(app app.cpp)\ntarget_link_libraries(app PRIVATE synlib::synlib)\n")
    (parent / "app.cpp").write_text(APP)
    for given in ("", "Debug"):
        build = tmp_path / f"b{given}"
        _sh("cmake", "-S", parent, "-B", build, "-G", "Ninja", f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}",
            *([f"-DCMAKE_BUILD_TYPE={given}"] if given else []))
        cache = (build / "CMakeCache.txt").read_text()
        assert f"CMAKE_BUILD_TYPE:STRING={given}\n" in cache, given
        assert "SYNLIB_BUILD_TESTS:BOOL=OFF" in cache and "SYNLIB_INSTALL:BOOL=OFF" in cache
        targets = _sh("ninja", "-C", build, "-t", "targets", "all")
        assert "synlib_test" not in targets and "install" not in _sh("ninja", "-C", build, "-t", "targets")
    top = tmp_path / "top"
    _sh("cmake", "-S", parent / "synlib", "-B", top, "-G", "Ninja", f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}")
    cache = (top / "CMakeCache.txt").read_text()
    assert "CMAKE_BUILD_TYPE:STRING=Release" in cache and "SYNLIB_BUILD_TESTS:BOOL=ON" in cache


@needs_cmake
@pytest.mark.skipif(shutil.which("nm") is None or shutil.which("g++") is None, reason="nm and g++ are needed")
def test_static_library_exports_only_the_api_namespace(up: dict[str, Path], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _extract(up, tree)
    results = {}
    for hide in ("ON", "OFF"):
        build = tmp_path / f"static-{hide}"
        _sh("cmake", "-S", tree, "-B", build, "-G", "Ninja", f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}",
            "-DSYNLIB_BUILD_TESTS=OFF", f"-DSYNLIB_HIDE_UPSTREAM_SYMBOLS={hide}")
        _sh("cmake", "--build", build)
        lib = build / "libsynlib.a"
        # global defined symbols: an upper-case type letter (T, D, B, R, W, V...)
        glob = [line.split(" ", 2)[2] for line in _sh("nm", "-C", "--defined-only", lib).splitlines()
                if line.count(" ") >= 2 and line.split(" ", 2)[1].isupper()]
        results[hide] = glob
        # a program linking the static library (and another definition of syn::log_msg) still works
        (tmp_path / "app.cpp").write_text(APP)
        (tmp_path / "foreign.cpp").write_text(FOREIGN)
        exe = tmp_path / f"app-{hide}"
        link = subprocess.run(["g++", "-o", str(exe), str(tmp_path / "app.cpp"), str(tmp_path / "foreign.cpp"),
                               f"-I{tree / 'include'}", str(lib), f"-L{nvcc.cuda_include_dir().parent / 'lib64'}",
                               "-lcudart", "-lcuda"], capture_output=True, text=True, check=False)
        env = {**os.environ, "LD_LIBRARY_PATH": str(nvcc.cuda_include_dir().parent / "lib64")}
        if hide == "ON":
            assert link.returncode == 0, link.stderr
            run = subprocess.run([str(exe)], capture_output=True, text=True, check=False, env=env)
            assert "syn: negative n" in run.stderr and "FOREIGN" not in run.stdout
        else:  # without isolation the two definitions clash: a link error, or the library calls the other one
            clash = link.returncode != 0 and "multiple definition" in link.stderr
            if not clash:
                run = subprocess.run([str(exe)], capture_output=True, text=True, check=False, env=env)
                clash = "FOREIGN" in run.stdout
            assert clash
    assert results["ON"] and all(n.startswith("synapi::") for n in results["ON"]), results["ON"]
    assert any(n.startswith("syn::") for n in results["OFF"])


def test_sync_reproduces_the_tree_with_the_flags_the_lock_records(up: dict[str, Path], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _extract(up, tree, "--max-kernels", "1", "--per-tu", "1")
    lock = json.loads((tree / "vendor.lock.json").read_text())
    assert lock["extract"] == {"quant_ops": lock["quant_ops"], "kernels_only": False, "max_kernels": 1,
                               "per_tu": 1, "rules": "rules.toml"}
    before = _files(tree)
    (tree / "KERNELS.md").unlink()
    (tree / "CMakeLists.txt").write_text("edited\n")
    r = run_cli("sync", tree, "--trtllm", up["up"], "--rules", up["rules"], "--json", cache=up["cache"])
    assert r.code == 0, r.err
    assert r.json()["state"] == "replaced" and r.json()["kernels"] == 1
    assert _files(tree) == before  # byte for byte
    # a rules file that is not the installation's must be named again
    r = run_cli("sync", tree, "--trtllm", up["up"], cache=up["cache"])
    assert r.code == 2 and "--rules" in r.err and no_traceback(r)


@pytest.mark.c2
def test_c2_sync_reproduces_a_max_kernels_2_tree(c2_root: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    r = run_cli("extract", "--trtllm", c2_root, "--out", tree, "--max-kernels", "2", "-q")
    assert r.code == 0, r.err
    before = _files(tree)
    shutil.rmtree(tree / "src")
    r = run_cli("sync", tree, "--trtllm", c2_root, "--json")
    assert r.code == 0, r.err
    assert r.json()["kernels"] == 2 and _files(tree) == before


def test_graph_output_has_the_usual_mode(up: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    r = run_cli("graph", "--trtllm", up["up"], "--rules", up["rules"], "--format", "dot", "-o", out,
                cache=up["cache"])
    assert r.code == 0, r.err
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_closure_only_accepts_every_role_the_table_shows(up: dict[str, Path]) -> None:
    full = run_cli("closure", "--trtllm", up["up"], "--rules", up["rules"], "--json", cache=up["cache"])
    assert full.code == 0, full.err
    for role in sorted({tu["role"] for tu in full.json()["tus"]}):
        r = run_cli("closure", "--trtllm", up["up"], "--rules", up["rules"], "--json", "--only", role,
                    cache=up["cache"])
        assert r.code == 0, (role, r.err)
        assert {tu["role"] for tu in r.json()["tus"]} == {role}
    r = run_cli("closure", "--help")
    assert "gemv" in r.out


def test_tables_are_never_cut(up: dict[str, Path]) -> None:
    """Piped (not a terminal, whatever COLUMNS says), each row stays whole: no '…' anywhere."""
    r = run_cli("closure", "--trtllm", up["up"], "--rules", up["rules"], cache=up["cache"],
                env={"COLUMNS": "40"})
    assert r.code == 0, r.err
    assert "…" not in r.out and "src/generated/syn_launchers_0.generated.cu" in r.out
