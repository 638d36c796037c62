"""The rules file of this target (its recipe), validated into frozen dataclasses (adapters/tomlschema.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from vendor_slim.adapters.tomlschema import build, invalid, read_toml
from vendor_slim.errors import BadInput
from vendor_slim.targets import profile
from vendor_slim.targets.profile import Profile

# Shipped inside the package (a wheel has no repository around it): found through importlib.resources.
RULES_DIR = Path(str(resources.files("vendor_slim.targets.trtllm_fpaintb") / "rules")).resolve()
DEFAULT_RULES = RULES_DIR / "w4a16_sm90.toml"
PROFILES_DIR = RULES_DIR / "profiles"

QUANT_OP_ALIASES = ("fg", "pc", "fgz")


@dataclass(frozen=True)
class QuantOpRule:
    """One quant op of the target: its enum spelling and the upstream runner TU that instantiates it."""

    enum: str
    """The C++ enumerator, e.g. cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_ONLY."""
    runner_tu: str
    """Path of the runner TU, relative to the layout's code root."""
    macro: str = ""
    """Macro the emitted config header sets to 1 when this quant op is compiled in (0 otherwise)."""


@dataclass(frozen=True)
class SelectRule:
    act: tuple[str, ...]
    """Accepted activation types, as the generator spells them."""
    weight: tuple[str, ...]
    """Accepted weight types."""
    default_quant_ops: tuple[str, ...] = ("fg",)
    """Quant ops used when --quant-op is not given."""


@dataclass(frozen=True)
class RunnerRule:
    template: str
    """The runner class template, fully qualified."""
    args: tuple[str, ...]
    """Its template arguments; the token QUANT_OP stands for the quant op's enum."""


@dataclass(frozen=True)
class StubRule:
    include: str
    """The include name (as written in #include) that the stub stands in for."""
    text: str
    """The stub's full text, written by this project."""
    when_missing: bool = True
    """Use the stub only when no real header resolves."""


@dataclass(frozen=True)
class TargetRule:
    name: str
    """Name of the emitted tree and CMake target (e.g. w4a16-sm90)."""
    launcher: str
    """The launcher function template the generator instantiates."""
    generated_kind: str
    """Sub-folder of the generator output that holds this launcher kind (gemm, gemm_grouped)."""
    cuda_arch: str
    """compute_/sm_ suffix, e.g. 90a."""
    generator_arch: str
    """Value for the generator's architecture argument, e.g. 90."""
    std: str = "c++17"
    defines: tuple[str, ...] = ()
    """Preprocessor defines of every TU (NAME or NAME=VALUE)."""
    forbidden_defines: tuple[str, ...] = ()
    """Defines that must never be set for this target (ENABLE_BF16, ENABLE_FP8)."""
    instantiations_per_tu: int = 8
    """How many selected instantiations the emitted tree puts in one generated TU."""
    cuda_flags: tuple[str, ...] = ()
    """Extra nvcc flags of every CUDA TU (code generation only; they do not change what is read)."""
    arg_fields: tuple[str, ...] = (
        "act", "weight", "scale_zero", "bias", "out", "quant_op", "epilogue",
        "cta", "cluster", "mainloop", "epilogue_schedule",
    )
    """What each template argument of the launcher means, by position."""


@dataclass(frozen=True)
class EmitRule:
    """The tool-owned part of the emitted tree: the public API over the vendored runner, and its tests.

    The API sources are TUs of the target like the runner's: their uses seed the link closure (the
    weight preprocessing they call is how `cutlass_preprocessors.cpp` is found)."""

    templates: str
    """Folder of the tool-owned files, relative to the rules file; copied keeping relative paths."""
    library: str
    """CMake target, export and package name (find_package(<library>))."""
    sources: tuple[str, ...]
    """Library TUs among the templates (the API implementation)."""
    public_headers: tuple[str, ...]
    """Installed headers among the templates (under include/)."""
    test_sources: tuple[str, ...] = ()
    """The test-and-benchmark program's sources among the templates."""
    test_libraries: tuple[str, ...] = ()
    """CMake targets the test program links besides the library (e.g. CUDA::cublas)."""
    config_header: str = ""
    """Generated header (under include/) that says which quant ops are compiled in."""
    api_namespace: str = ""
    """The public API's C++ namespace: with it, the shared library exports only that namespace's
    symbols (a linker version script, so upstream files stay byte-identical), so the library can be
    loaded next to TensorRT-LLM or FlashInfer, which define the same tensorrt_llm:: symbols."""


@dataclass(frozen=True)
class GemvRule:
    """The CUDA-core GEMV for small M (see stages/gemv.py): where its dispatchers and dispatch live."""

    dispatchers: str
    """Glob of the dispatcher TUs, relative to the code root."""
    instantiate_macro: str
    """The macro each dispatcher TU invokes to instantiate its dispatcher."""
    function: str
    """The function template that macro instantiates, qualified."""
    launcher_header: str
    """The header holding the run-time arch dispatch (relative to the code root)."""
    launcher_function: str
    """The function holding the arch dispatch."""
    exec_macro: str
    """The macro the arch dispatch invokes per kernel type."""
    dispatcher_header: str
    """The header holding the per-M cases."""
    m_macro: str
    """The per-M case macro; its first argument is M."""
    kernel_type: str
    """The kernel type to select, e.g. KernelType::FP16Int4Groupwise."""
    arch_variable: str = "arch"
    """The name of the arch in the dispatch's conditions."""


@dataclass(frozen=True)
class AlternativeRule:
    requires: tuple[str, ...]
    """Qualified names the tree must declare for this alternative."""
    expr: str
    """The C++ expression over the config `c` that this alternative generates."""


@dataclass(frozen=True)
class AccessorRule:
    """A fact the API reads that vintages spell differently (CutlassGemmConfig::is_sm90 became
    sm_version == 90): generated as `template <typename C> TYPE NAME(C const& c)` from the first
    alternative whose names the tree declares."""

    name: str
    type: str
    alternatives: tuple[AlternativeRule, ...]


@dataclass(frozen=True)
class TablesRule:
    """The upstream declarations the API names, generated into a header of the emitted tree from the
    tree's own declarations (see tables.py), so that no template spells one vintage's enumerators."""

    header: str
    """The generated header's path inside the emitted tree (under include/)."""
    includes: tuple[str, ...]
    """Include names (resolved on the target's include path) whose declarations are read."""
    namespace: str
    """Namespace of the enums below."""
    shape_enums: tuple[str, ...] = ()
    """Enums whose enumerator names spell shapes (CtaShape64x16x128B, ClusterShape_1x1x1): names and shapes."""
    name_enums: tuple[str, ...] = ()
    """Enums whose enumerators are tabulated with their names only."""
    requires: tuple[str, ...] = ()
    """Qualified names the API template spells; the tree must declare each (else exit 2 naming it)."""
    accessors: tuple[AccessorRule, ...] = ()


@dataclass(frozen=True)
class Rules:
    path: Path
    sha256: str
    target: TargetRule
    select: SelectRule
    runner: RunnerRule
    quant_ops: dict[str, QuantOpRule]
    emit: EmitRule | None = None
    gemv: GemvRule | None = None
    stubs: tuple[StubRule, ...] = ()
    tables: TablesRule | None = None


def load_rules(path: Path | None = None) -> Rules:
    path = (path or DEFAULT_RULES).resolve()
    data, raw = read_toml(path, "rules file")
    return rules_from_data(data, path, hashlib.sha256(raw).hexdigest())


def rules_from_data(data: dict[str, Any], path: Path, sha256: str = "") -> Rules:
    """Validate parsed TOML into Rules; BadInput lists every problem."""
    errors: list[str] = []
    rules = build(Rules, data, "", errors, {"path": path, "sha256": sha256})
    if not errors:
        for key in ("name", "launcher", "generated_kind", "cuda_arch", "generator_arch", "std"):
            if not getattr(rules.target, key).strip():
                errors.append(f"target.{key}: must not be empty")
        for alias in rules.quant_ops:
            if alias not in QUANT_OP_ALIASES:
                errors.append(f"quant_ops.{alias}: unknown quant op (allowed: {', '.join(QUANT_OP_ALIASES)})")
        for op in rules.select.default_quant_ops:
            if op not in rules.quant_ops:
                errors.append(f"select.default_quant_ops: unknown quant op {op!r}")
        paths = [("emit.config_header", rules.emit.config_header)] if rules.emit else []
        if rules.emit:
            paths += [(f"emit.{k}", v) for k in ("sources", "public_headers", "test_sources")
                      for v in getattr(rules.emit, k)]
        paths += [(f"stubs[{i}].include", s.include) for i, s in enumerate(rules.stubs)]
        if rules.tables:
            paths.append(("tables.header", rules.tables.header))
            if rules.emit is None:
                errors.append("tables: needs an [emit] section (the tables are part of the API)")
        for key, value in paths:
            parts = value.split("/")
            if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
                errors.append(f"{key}: {value!r} is not a plain relative path inside the emitted tree "
                              "(no '..', no leading '/')")
        clash = set(rules.target.defines) & set(rules.target.forbidden_defines)
        if clash:
            errors.append(f"target.defines: {', '.join(sorted(clash))} is forbidden for this target")
    if errors:
        raise invalid(path, "rules file", errors)
    return rules


def load_profiles(directory: Path = PROFILES_DIR) -> list[Profile]:
    """This target's layout profiles (shipped in rules/profiles/)."""
    return profile.load_profiles(directory)


def resolve_quant_ops(rules: Rules, requested: tuple[str, ...]) -> tuple[str, ...]:
    """Expand --quant-op values ('all' included) into aliases, in the rules' order, deduplicated."""
    if not requested:
        return rules.select.default_quant_ops
    out: list[str] = []
    for op in requested:
        names = list(rules.quant_ops) if op == "all" else [op]
        for name in names:
            if name not in rules.quant_ops:
                allowed = ", ".join([*rules.quant_ops, "all"])
                raise BadInput(f"unknown quant op {name!r} (allowed: {allowed})")
            if name not in out:
                out.append(name)
    return tuple(sorted(out, key=list(rules.quant_ops).index))


__all__ = ["PROFILES_DIR", "AccessorRule", "AlternativeRule", "Profile", "QuantOpRule", "Rules", "TablesRule",
           "load_profiles", "load_rules", "resolve_quant_ops",
           "rules_from_data"]
