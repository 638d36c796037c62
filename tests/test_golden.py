"""The emitted tool-written files (CMakeLists.txt, the lock, README.md, KERNELS.md, NOTICE, the SBOM, the
generated TUs, the API and config files) compared whole with reviewed golden copies.

Regenerate after an intended change of what the tool writes (then review `git diff tests/golden`):

    VENDOR_SLIM_REGEN_GOLDEN=1 python -m pytest -q tests/test_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import golden
from tests.helpers import run_cli
from tests.synth import make_extract_tree


def _extract_synthetic(base: Path, edit: str | None = None) -> Path:
    tree = make_extract_tree(base / "up")
    if edit is not None:
        p = tree / edit
        text = p.read_bytes()
        i = text.index(b"return m;") + len(b"return")
        p.write_bytes(text[:i] + b"\t" + text[i + 1:])  # one byte, still valid C++: a space becomes a tab
    out = base / "out" / "syn"
    r = run_cli("extract", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "all", "--out", out,
                cache=base / "cache")
    assert r.code == 0, r.err
    return out


def _no_machine_paths(tree: Path, *paths: Path) -> None:
    for rel, data in golden.tool_written(tree).items():
        for p in paths:
            assert str(p).encode() not in data, f"{rel} names the machine path {p}"


def test_synthetic_tree_matches_golden(tmp_path: Path) -> None:
    out = _extract_synthetic(tmp_path)
    _no_machine_paths(out, tmp_path)
    problems = golden.check("synthetic", out)
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(golden.regenerating(), reason="the golden copies are being rewritten")
def test_one_byte_template_change_fails_the_golden_test(tmp_path: Path) -> None:
    out = _extract_synthetic(tmp_path, edit="templates/src/synapi.cu")
    problems = golden.check("synthetic", out)
    changed = {p.split(":", 1)[0] for p in problems}
    # the edited file itself, and the lock and SBOM that record its hash
    assert "src/synapi.cu" in changed, problems
    assert "vendor.lock.json" in changed
    edited = next(p for p in problems if p.startswith("src/synapi.cu"))
    assert "+  return\tm;" in edited and "-  return m;" in edited


def test_differences_reports_missing_extra_and_changed() -> None:
    probs = golden.differences({"a": b"x\n", "b": b"y\n"}, {"b": b"z\n", "c": b""})
    assert probs[0].startswith("a: in the golden copy") and probs[1].startswith("c: written by the tool")
    assert probs[2].startswith("b: differs") and "-y" in probs[2] and "+z" in probs[2]


@pytest.mark.c1
def test_c1_launcher_tree_matches_golden(c1_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "c1"
    r = run_cli("extract", "--trtllm", c1_root, "--kernels-only", "--out", out)
    assert r.code == 0, r.err
    files = golden.tool_written(out)
    # only what the tool writes: no upstream file (all of those sit under third_party/, stubs aside)
    assert all(not p.startswith("third_party/") or p.startswith("third_party/stubs/") for p in files)
    _no_machine_paths(out, tmp_path, c1_root)
    problems = golden.check("c1-kernels-only", out)
    assert not problems, "\n".join(problems)


def test_golden_folders_hold_no_upstream_file() -> None:
    if not golden.GOLDEN.is_dir():
        pytest.skip("no golden copies yet")
    for p in golden.GOLDEN.rglob("*"):
        rel = p.relative_to(golden.GOLDEN).as_posix()
        parts = rel.split("/")
        assert len(parts) < 3 or parts[1] != "third_party" or parts[2] == "stubs", rel
