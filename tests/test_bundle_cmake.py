"""The bundle's CMake project (vendor_slim/targets/bundle/templates): configured and built with either
backend switched off, with small stand-in backend libraries (tests/data/bundle_standins) in place of the
real emitted trees, which this test does not build (an hour of CUTLASS compiles). The dispatcher is
compiled against the TensorRT-LLM target's real public header; a smoke program linked to it reports the
backends it holds, and the dispatching library exports nothing but w4a16:: symbols."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vendor_slim
from vendor_slim.targets.trtllm_fpaintb.rulefile import RULES_DIR

PKG = Path(vendor_slim.__file__).parent
BUNDLE = PKG / "targets" / "bundle" / "templates"
COMMON = PKG / "targets" / "common" / "templates"
STANDINS = Path(__file__).parent / "data" / "bundle_standins"
TRT_HEADER = RULES_DIR / "templates" / "w4a16_sm90" / "include" / "w4a16_sm90" / "w4a16_sm90.h"


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name  # the venv's cmake / ninja (the test extra)
    return str(here) if here.is_file() else shutil.which(name)


CMAKE, NINJA = _tool("cmake"), _tool("ninja")
pytestmark = [
    pytest.mark.skipif(CMAKE is None or NINJA is None, reason="cmake and ninja are needed (pip install -e .[test])"),
    pytest.mark.skipif(shutil.which("nvcc") is None,
                       reason="the CUDA toolkit (CUDA runtime headers and library) is not installed"),
]


def assemble(dest: Path, backends: tuple[str, ...]) -> Path:
    """A bundle tree: the templates, the shared headers, and stand-ins as backends/<name>."""
    tree = dest / "tree"
    shutil.copytree(BUNDLE, tree)
    shutil.copytree(COMMON / "include" / "vendor_slim", tree / "include" / "vendor_slim")
    for b in backends:
        shutil.copytree(STANDINS / b, tree / "backends" / b)
    if "trtllm" in backends:
        (tree / "backends/trtllm/include/w4a16_sm90").mkdir(parents=True)
        shutil.copy(TRT_HEADER, tree / "backends/trtllm/include/w4a16_sm90/w4a16_sm90.h")
    return tree


def configure(tree: Path, build: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(str(NINJA)).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(CMAKE), "-S", str(tree), "-B", str(build), "-G", "Ninja", *flags], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.parametrize(("flags", "expect"), [
    ((), ["trtllm", "machete"]),
    (("-DW4A16_WITH_TRTLLM=OFF",), ["machete"]),
    (("-DW4A16_WITH_MACHETE=OFF",), ["trtllm"]),
])
def test_bundle_builds_with_either_backend_off(tmp_path: Path, flags: tuple[str, ...], expect: list[str]) -> None:
    tree = assemble(tmp_path, ("trtllm", "machete"))
    build = tmp_path / "build"
    r = configure(tree, build, *flags)
    assert r.returncode == 0, r.stdout + r.stderr
    libs = {"trtllm": "w4a16_sm90::w4a16_sm90", "machete": "machete_sm90::machete_sm90"}
    assert f"w4a16: backends:{';'.join(libs[b] for b in expect)}" in r.stdout
    done = subprocess.run([str(CMAKE), "--build", str(build)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    smoke = subprocess.run([str(build / "w4a16_smoke")], capture_output=True, text=True, timeout=60)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.splitlines()[0] == "backends: " + " ".join(expect)
    if "machete" in expect:
        assert "machete: 3 configs, first standin_machete_128x16" in smoke.stdout
    # a backend switched off is neither compiled nor linked
    compiled = (build / "build.ninja").read_text()
    for b in ("trtllm", "machete"):
        assert (f"src/backend_{b}.cpp" in compiled) == (b in expect)
    nm = shutil.which("nm")
    if nm:
        syms = subprocess.run([nm, "-DC", "--defined-only", str(build / "libw4a16.so")], capture_output=True,
                              text=True, check=True).stdout.splitlines()
        names = [ln.split(" ", 2)[2] for ln in syms if ln.count(" ") >= 2]
        assert names and all(n.startswith("w4a16::") for n in names), [n for n in names if
                                                                       not n.startswith("w4a16::")][:5]


def test_bundle_with_no_backend_is_refused(tmp_path: Path) -> None:
    tree = assemble(tmp_path, ("trtllm",))
    r = configure(tree, tmp_path / "b1", "-DW4A16_WITH_TRTLLM=OFF")
    assert r.returncode != 0 and "w4a16: no backend" in r.stderr
    # a backend asked for whose tree is absent is named
    r = configure(tree, tmp_path / "b2", "-DW4A16_WITH_MACHETE=ON")
    assert r.returncode != 0 and "W4A16_WITH_MACHETE is on but" in r.stderr


def test_backends_default_to_the_trees_present(tmp_path: Path) -> None:
    tree = assemble(tmp_path, ("trtllm",))
    r = configure(tree, tmp_path / "b")
    assert r.returncode == 0, r.stderr
    assert "w4a16: backends:w4a16_sm90::w4a16_sm90\n" in r.stdout
