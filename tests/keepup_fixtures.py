"""Session fixtures shared by test_publish, test_diff and test_sbom: one extraction of each tree for all
three. The modules load this file as a plugin (`pytest_plugins`), so the fixtures exist once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.keepup_synth import extract, make_git_upstream


@pytest.fixture(scope="session")
def keepup_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(upstream git checkout, the tree extracted from it with --quant-op all, cache)."""
    base = tmp_path_factory.mktemp("keepup")
    cache = base / "cache"
    up = make_git_upstream(base / "up")
    out = base / "out" / "syn"
    r = extract(up, out, cache)
    assert r.code == 0, r.err
    return up, out, cache


@pytest.fixture(scope="session")
def keepup_fg_tree(keepup_tree: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same upstream extracted for fg alone: pc's runner TU and kernels are not in it."""
    up, _, cache = keepup_tree
    fg = tmp_path_factory.mktemp("keepup-fg") / "syn"
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", fg, cache=cache)
    assert r.code == 0, r.err
    return fg
