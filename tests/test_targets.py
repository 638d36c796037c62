"""The target registry: --target by name, else the target whose layout matches the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli
from tests.synth import make_tree
from vendor_slim.errors import BadInput
from vendor_slim.targets import registry


def test_unknown_target_is_bad_input_naming_the_known_ones(tmp_path: Path) -> None:
    r = run_cli("kernels", "--trtllm", tmp_path, "--target", "nope", cache=tmp_path / "cache")
    assert r.code == 2 and no_traceback(r), r.err
    assert "unknown target 'nope' (known: w4a16-sm90)" in r.err


def test_registry_picks_by_name_then_by_layout(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "up")
    assert registry.for_tree(tree).name == "w4a16-sm90"  # its trtllm-2024 markers
    assert registry.for_tree(tmp_path / "absent").name == registry.DEFAULT  # whose detection says why
    assert registry.for_tree(tree, "w4a16-sm90") is registry.get("w4a16-sm90")
    with pytest.raises(BadInput, match="unknown target"):
        registry.for_tree(tree, "nope")
