"""Symbol isolation: the emitted shared library exports only its API namespace, so a program that
also loads another library defining the same upstream symbols (as TensorRT-LLM and FlashInfer do)
gets each library bound to its own copy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.synth import make_extract_tree
from vendor_slim.adapters import nvcc

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("nm") is None,
                                reason="cmake and nm are needed")

FOREIGN = """\
#include <cstdio>
namespace syn { void log_msg(char const* what) { std::printf("FOREIGN %s\\n", what); } }
"""

APP = """\
#include "synapi/synapi.h"
#include <cstdio>
int main() { std::fflush(stdout); synapi::run(-1); return 0; }
"""


def _sh(*cmd: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _build(tree: Path, build: Path, hide: bool) -> Path:
    hide_flag = f"-DSYNLIB_HIDE_UPSTREAM_SYMBOLS={'ON' if hide else 'OFF'}"
    _sh("cmake", "-S", tree, "-B", build, "-G", "Ninja", f"-DCMAKE_CUDA_COMPILER={nvcc.nvcc_path()}",
        "-DBUILD_SHARED_LIBS=ON", "-DSYNLIB_BUILD_TESTS=OFF", hide_flag)
    _sh("cmake", "--build", build)
    return build / "libsynlib.so"


@pytest.fixture(scope="module")
def libs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("iso")
    up = make_extract_tree(base / "up")
    tree = base / "tree"
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", tree, cache=base / "cache")
    assert r.code == 0, r.err
    return tree, _build(tree, base / "hidden", True), _build(tree, base / "open", False)


def _exported(lib: Path) -> list[str]:
    out = _sh("nm", "-DC", "--defined-only", lib)
    return [line.split(" ", 2)[2] for line in out.splitlines() if line.count(" ") >= 2]


def test_only_the_api_namespace_is_exported(libs: tuple[Path, Path, Path]) -> None:
    _, hidden, open_ = libs
    names = _exported(hidden)
    assert any(n.startswith("synapi::") for n in names)
    assert not [n for n in names if n.startswith("syn::")], names
    assert any(n.startswith("syn::log_msg") for n in _exported(open_))  # without isolation it leaks


def test_each_library_binds_to_its_own_copy(libs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    tree, hidden, open_ = libs
    foreign = tmp_path / "libforeign.so"
    (tmp_path / "foreign.cpp").write_text(FOREIGN)
    _sh("g++", "-shared", "-fPIC", "-o", foreign, tmp_path / "foreign.cpp")
    (tmp_path / "app.cpp").write_text(APP)
    results = {}
    for name, lib in (("hidden", hidden), ("open", open_)):
        exe = tmp_path / f"app_{name}"
        # the foreign library comes first on the link line, as an engine loaded before ours would
        _sh("g++", "-o", exe, tmp_path / "app.cpp", f"-I{tree / 'include'}", "-Wl,--no-as-needed", foreign, lib,
            f"-Wl,-rpath,{tmp_path}:{lib.parent}")
        results[name] = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert "syn: negative n" in results["hidden"].stderr and "FOREIGN" not in results["hidden"].stdout
    assert "FOREIGN negative n" in results["open"].stdout  # the clash isolation prevents
