"""Rules and profiles: validated, with errors naming file, key and expected type."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import mutate, no_traceback, run_cli
from vendor_slim.errors import BadInput
from vendor_slim.targets.trtllm_fpaintb.rulefile import (
    DEFAULT_RULES,
    load_profiles,
    load_rules,
    resolve_quant_ops,
    rules_from_data,
)


def test_default_rules() -> None:
    r = load_rules()
    assert r.target.launcher == "sm90_generic_mixed_gemm_kernelLauncher"
    assert "COMPILE_HOPPER_TMA_GEMMS" in r.target.defines
    assert not {"ENABLE_BF16", "ENABLE_FP8"} & set(r.target.defines)
    assert set(r.quant_ops) == {"fg", "pc", "fgz"}
    assert resolve_quant_ops(r, ("all",)) == ("fg", "fgz", "pc")
    assert resolve_quant_ops(r, ()) == ("fg",)


def test_profiles() -> None:
    assert {p.name for p in load_profiles()} == {"trtllm-2024", "trtllm-2025", "flashinfer", "flashinfer-git"}


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.toml"
    p.write_text(text)
    return p


def test_unknown_key(tmp_path: Path) -> None:
    bad = DEFAULT_RULES.read_text().replace("[select]", "[select]\nact_types = ['half']")
    with pytest.raises(BadInput) as e:
        load_rules(_write(tmp_path, bad))
    assert "select.act_types: unknown key" in e.value.message and str(tmp_path / "r.toml") in e.value.message


def test_wrong_type(tmp_path: Path) -> None:
    bad = DEFAULT_RULES.read_text().replace('cuda_arch = "90a"', "cuda_arch = 90")
    with pytest.raises(BadInput) as e:
        load_rules(_write(tmp_path, bad))
    assert "target.cuda_arch: expected string, got int" in e.value.message


def test_unknown_quant_op_in_rules(tmp_path: Path) -> None:
    bad = DEFAULT_RULES.read_text().replace("[quant_ops.pc]", "[quant_ops.int3]")
    with pytest.raises(BadInput) as e:
        load_rules(_write(tmp_path, bad))
    assert "quant_ops.int3: unknown quant op" in e.value.message


def test_forbidden_define(tmp_path: Path) -> None:
    bad = DEFAULT_RULES.read_text().replace('defines = ["COMPILE_HOPPER_TMA_GEMMS"]',
                                            'defines = ["COMPILE_HOPPER_TMA_GEMMS", "ENABLE_FP8"]')
    with pytest.raises(BadInput) as e:
        load_rules(_write(tmp_path, bad))
    assert "ENABLE_FP8 is forbidden" in e.value.message


def test_invalid_toml_via_cli(tmp_path: Path) -> None:
    p = _write(tmp_path, "[target\nname=")
    r = run_cli("kernels", "--trtllm", tmp_path, "--rules", p)
    assert r.code == 2 and "not valid TOML" in r.err and str(p) in r.err and no_traceback(r)


def test_rules_missing_file(tmp_path: Path) -> None:
    r = run_cli("kernels", "--trtllm", tmp_path, "--rules", tmp_path / "none.toml")
    assert r.code == 2 and "does not exist" in r.err and no_traceback(r)


_key = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
_scalar = st.one_of(st.integers(), st.booleans(), st.text(max_size=8), st.floats(allow_nan=False))
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(_key, inner, max_size=3)), max_leaves=8)


_BASE = tomllib.loads(DEFAULT_RULES.read_text())


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(["target", "select", "runner", "quant_ops", "fg", "act", "defines",
                                 "launcher", "enum", "bogus"]), min_size=1, max_size=3), _value)
def test_rules_loader_never_crashes(path: list[str], value: object) -> None:
    """Any document: either valid Rules or BadInput naming the rules file, nothing else."""
    data = mutate(_BASE, path, value)
    try:
        rules = rules_from_data(data, Path("/r.toml"))
    except BadInput as e:
        assert e.message.startswith("invalid rules file /r.toml")
    else:
        assert rules.target.launcher


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_rules_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    p = tmp_path_factory.mktemp("r") / "r.toml"
    p.write_text(text)
    try:
        load_rules(p)
    except BadInput as e:
        assert str(p) in e.message


def test_empty_launcher(tmp_path: Path) -> None:
    bad = DEFAULT_RULES.read_text().replace('launcher = "sm90_generic_mixed_gemm_kernelLauncher"', 'launcher = ""')
    with pytest.raises(BadInput) as e:
        load_rules(_write(tmp_path, bad))
    assert "target.launcher: must not be empty" in e.value.message
