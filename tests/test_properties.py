"""Property-based tests (issue 6, item 5) beyond "never crashes": generated generator output must be
parsed back exactly, and generated rules files must load or fail with the documented error.

Each runs thousands of examples (1500 and 2000) in under ~15 s on 2 cores."""

from __future__ import annotations

import hashlib
import math
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import mutate
from vendor_slim.adapters.libclang.tokens import lex
from vendor_slim.errors import BadInput
from vendor_slim.targets.trtllm_fpaintb.instantiations import parse_generated
from vendor_slim.targets.trtllm_fpaintb.rulefile import DEFAULT_RULES, load_rules

FIELDS = load_rules().target.arg_fields

# ---------------------------------------------------------------------------------------------
# Instantiation parser: generated explicit instantiations, spelled the way `join` spells tokens
# (a space only between two words and after commas), come back field for field.

_ident = st.text(alphabet=string.ascii_lowercase + string.digits + "_", min_size=1, max_size=4).map(lambda s: "t_" + s)
_qualified = st.lists(_ident, min_size=1, max_size=3).map("::".join)
_int = st.integers(min_value=0, max_value=4096).map(str)


def _template_id(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(_qualified, st.lists(inner, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]}<{', '.join(t[1])}>")


# nested up to three levels deep (`A<B<C<1>>>` closes with '>>' and '>' tokens)
_leaf = st.one_of(_qualified, _int, st.tuples(_int, _int).map(lambda t: f"({t[0]}>{t[1]})"))
_arg = st.one_of(_leaf, _template_id(_leaf), _template_id(st.one_of(_leaf, _template_id(_leaf))))
_param = st.one_of(_qualified.map(lambda q: f"{q} const*"), _qualified, st.just("int"), st.just("char*"))
_ret = st.sampled_from(["void", "int", "unsigned int", "char const*", "t_ns::t_status"])


@st.composite
def _generated_file(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    namespaces = draw(st.lists(_ident, max_size=3))
    nested = draw(st.booleans())
    lines = ['#include "a/launcher.inl"', "// generated"]
    if namespaces:
        lines.append(f"namespace {'::'.join(namespaces)} {{" if nested else
                     " ".join(f"namespace {n} {{" for n in namespaces))
    want: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        name = draw(_ident)
        args = draw(st.lists(_arg, min_size=1, max_size=4))
        params = draw(st.lists(_param, max_size=3))
        ret = draw(_ret)
        guarded = draw(st.booleans())
        noise = draw(st.sampled_from(["", "// template void fake<int>(int);", "/* a < b > c */",
                                      "extern template void declared<int>(int);"]))
        if noise:
            lines.append(noise)
        if guarded:
            lines.append("#if defined(ENABLE_SOMETHING)")
        lines.append(f"template {ret} {name}<{', '.join(args)}>({', '.join(params)});")
        if guarded:
            lines.append("#endif")
        want.append({"function": name, "args": tuple(args), "params": ", ".join(params), "return_type": ret,
                     "namespace": tuple(namespaces), "disabled": guarded})
    if namespaces:
        lines.append("}" if nested else "}" * len(namespaces))
    return "\n".join(lines) + "\n", want


@settings(max_examples=1500, deadline=None)  # ~13 s on 2 cores: a libclang lex per example
@given(_generated_file())
def test_parser_reads_back_what_was_generated(case: tuple[str, list[dict[str, Any]]]) -> None:
    text, want = case
    pf = parse_generated(lex(Path("/virtual/gen.cu"), text), "gen.cu", FIELDS)
    assert pf.preamble == ('#include "a/launcher.inl"',)
    got = [{"function": i.function, "args": i.args, "params": i.params, "return_type": i.return_type,
            "namespace": i.namespace, "disabled": i.index in pf.disabled} for i in pf.instantiations]
    assert got == want
    for i in pf.instantiations:
        assert i.act == i.args[0]


# ---------------------------------------------------------------------------------------------
# Rules loader: the default rules, mutated at random keys and written as real TOML text (sometimes
# corrupted), load from a file into Rules or fail with BadInput naming the file; nothing else.

_key = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
_scalar = st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(), st.text(max_size=8),
                    st.floats(allow_nan=False))
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(_key, inner, max_size=3)), max_leaves=8)
_BASE = tomllib.loads(DEFAULT_RULES.read_text())


def _toml_str(s: str) -> str:
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{_toml_str(k)} = {_toml(x)}" for k, x in v.items()) + "}"


def _document(data: dict[str, Any]) -> str:
    return "".join(f"{_toml_str(k)} = {_toml(v)}\n" for k, v in data.items())


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rules") / "r.toml"


def test_document_round_trips_the_default_rules() -> None:
    assert tomllib.loads(_document(_BASE)) == _BASE


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["target", "select", "runner", "quant_ops", "fg", "pc", "act", "defines",
                                 "launcher", "enum", "runner_tu", "emit", "stubs", "bogus"]), min_size=1, max_size=3),
       _value, st.one_of(st.none(), st.tuples(st.integers(min_value=0), st.sampled_from(["", "[", "=", '"', "\n"]))))
def test_rules_file_loads_or_fails_cleanly(rules_file: Path, path: list[str], value: object,
                                           corrupt: tuple[int, str] | None) -> None:
    data = mutate(_BASE, path, value)
    text = _document(data)
    if corrupt is None:
        assert tomllib.loads(text) == data  # the file says what was generated
    else:
        at = corrupt[0] % (len(text) + 1)
        text = text[:at] + corrupt[1] + text[at + 1:]
    rules_file.write_text(text)
    try:
        rules = load_rules(rules_file)
    except BadInput as e:
        assert str(rules_file.resolve()) in e.message
        assert e.message.startswith(f"invalid rules file {rules_file.resolve()}") or "is not valid TOML" in e.message
    else:
        assert rules.target.launcher and rules.quant_ops
        assert rules.sha256 == hashlib.sha256(text.encode()).hexdigest()
