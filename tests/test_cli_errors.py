"""Bad input gets one clear message and the contract's exit code, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import NEEDS_PERMISSIONS, no_traceback, permission_prefix, run_cli
from tests.synth import make_tree


def test_help() -> None:
    r = run_cli("kernels", "--help")
    assert r.code == 0
    assert "--trtllm" in r.out and "--quant-op" in r.out


def test_missing_trtllm_flag() -> None:
    r = run_cli("kernels")
    assert r.code == 2
    assert "--trtllm" in r.err
    assert no_traceback(r)


def test_trtllm_does_not_exist(tmp_path: Path) -> None:
    r = run_cli("kernels", "--trtllm", tmp_path / "nope")
    assert r.code == 2
    assert str(tmp_path / "nope") in r.err and "no such file" in r.err
    assert no_traceback(r)


def test_trtllm_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    r = run_cli("kernels", "--trtllm", f)
    assert r.code == 2 and "not a directory" in r.err and no_traceback(r)


@pytest.mark.parametrize("mode", [0o000, 0o444])
def test_trtllm_unreadable(tmp_path: Path, mode: int) -> None:
    """0o000: click's readability check of the option answers; 0o444 (readable, not searchable): ours."""
    prefix = permission_prefix()  # as root: without the capabilities that bypass permission bits
    if prefix is None:
        pytest.skip(NEEDS_PERMISSIONS)
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(mode)
    try:
        r = run_cli("kernels", "--trtllm", d, prefix=prefix)
    finally:
        d.chmod(0o755)
    assert r.code == 2 and no_traceback(r), r.err
    if mode == 0:
        assert f"Invalid value for '--trtllm': Path '{d}' is not readable" in r.err
    else:
        assert f"--trtllm {d}: permission denied (cannot list the directory)" in r.err


def test_unrecognised_tree_names_markers(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    r = run_cli("kernels", "--trtllm", tmp_path)
    assert r.code == 2
    assert "not a recognised tree" in r.err
    assert "jit/gemm/cutlass/generate_kernels.py" in r.err and "cpp/include/tensorrt_llm" in r.err
    assert no_traceback(r)


def test_empty_cutlass_submodule(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    cut = tree / "3rdparty" / "cutlass"
    for p in sorted(cut.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml")
    assert r.code == 2
    assert "submodule update --init 3rdparty/cutlass" in r.err
    assert no_traceback(r)


def test_bad_quant_op() -> None:
    r = run_cli("kernels", "--trtllm", ".", "--quant-op", "int3")
    assert r.code == 2 and "int3" in r.err and no_traceback(r)


def test_wrong_libclang_wheel(tmp_path: Path) -> None:
    """The old `libclang` wheel's bindings lack the resource headers: a one-line fix, exit 2."""
    fake = tmp_path / "site" / "clang"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "cindex.py").write_text("class Config:\n    library_path = None\n")
    tree = make_tree(tmp_path / "tree")
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", cache=tmp_path / "c",
                env={"PYTHONPATH": str(tmp_path / "site")})
    assert r.code == 2
    assert "pip install 'libclang-ng" in r.err
    # one line of error; the progress lines of the stages that ran before it are separate
    progress = re.compile(r"^vendor-slim: [^:]+: (done|stopped) \(")
    errors = [line for line in r.err.strip().splitlines() if not progress.match(line)]
    assert len(errors) == 1, r.err
    assert no_traceback(r)
