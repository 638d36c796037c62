"""The TensorRT-LLM fpA_intB W4A16 SM90 target (TensorRT-LLM checkouts and FlashInfer wheels).

Kernels: the `sm90_generic_mixed_gemm_kernelLauncher` instantiations TensorRT-LLM's generator writes,
selected by the rules and cross-checked with the `CutlassFpAIntBGemmRunner` instantiation (runner.py).
Plan: the selected kernels regrouped into tool-owned TUs, the runner TU(s), the public API and test
program from rules/templates/, the config header, the stubs, and the composed GEMV recipe (gemv.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from vendor_slim.adapters import nvcc
from vendor_slim.errors import BadInput, CheckFailed
from vendor_slim.layout import GENERATED_DIR, STUB_DIR
from vendor_slim.models import SourceTree, SymbolJob, TranslationUnit, lang_of
from vendor_slim.targets.base import BuildPlan, EmitFacts, Kernels, Options
from vendor_slim.targets.profile import Profile, detect
from vendor_slim.targets.trtllm_fpaintb.gemv import GemvSelection, select_gemv
from vendor_slim.targets.trtllm_fpaintb.rulefile import (
    RULES_DIR,
    Rules,
    load_profiles,
    load_rules,
    resolve_quant_ops,
)
from vendor_slim.targets.trtllm_fpaintb.select import KernelsReport, select_kernels
from vendor_slim.targets.trtllm_fpaintb.tables import read_tables
from vendor_slim.targets.trtllm_fpaintb.units import (
    active_stubs,
    compile_spec,
    group_instantiations,
    launcher_sources,
    runner_tus,
    tool_files,
    write_staging,
)


def _report(kernels: Kernels) -> KernelsReport:
    if not isinstance(kernels, KernelsReport):
        raise TypeError(f"not this target's kernels: {type(kernels).__name__}")
    return kernels


def rules_doc(rules: Rules) -> dict[str, str]:
    """The rules as the lock records them: rules/<file> for the shipped ones, else the file name."""
    rel = (f"rules/{rules.path.relative_to(RULES_DIR).as_posix()}" if RULES_DIR in rules.path.parents
           else rules.path.name)
    return {"path": rel, "sha256": rules.sha256}


def shipped_rules(recorded: str) -> Path | None:
    """The rules file a lock names (rules/...), when this installation ships it."""
    if recorded.startswith("rules/"):
        p = RULES_DIR.parent / recorded
        if p.is_file():
            return p
    return None


class FpAIntBTarget:
    name = "w4a16-sm90"
    description = "TensorRT-LLM's fpA_intB GEMM, FP16 x INT4 on SM90 (TensorRT-LLM checkouts, FlashInfer)"

    def profiles(self) -> Sequence[Profile]:
        return load_profiles()

    def recipe(self, options: Options) -> tuple[Rules, tuple[str, ...]]:
        """The rules and the quant ops asked for (checked before the tree is looked at)."""
        rules = load_rules(options.rules)
        return rules, resolve_quant_ops(rules, options.variants)

    def detect(self, tree: Path, options: Options) -> SourceTree:
        self.recipe(options)  # a bad rules file or quant op is reported before the tree
        src, _ = detect(tree, list(self.profiles()), cutlass=options.override("cutlass"))
        return src

    def default_per_tu(self, options: Options) -> int:
        """Kernels per generated TU when --per-tu is not given."""
        return load_rules(options.rules).target.instantiations_per_tu

    def rules_record(self, options: Options) -> dict[str, str]:
        """The rules as the lock records them."""
        return rules_doc(load_rules(options.rules))

    def lock_rules(self, recorded: str) -> Path | None:
        """The shipped rules file a lock's `rules.path` names, if this installation has it."""
        return shipped_rules(recorded)

    def kernels(self, src: SourceTree, options: Options, cache: Path) -> KernelsReport:
        rules, ops = self.recipe(options)
        return select_kernels(src, rules, ops, cache)

    def plan(self, src: SourceTree, kernels: Kernels, options: Options, cache: Path) -> BuildPlan:
        rep = _report(kernels)
        rules, ops, shape = rep.rules, rep.quant_ops, options.shape
        if rep.analysis.missing:
            raise CheckFailed(f"the runner references {len(rep.analysis.missing)} launcher(s) that the generator "
                              f"does not write, e.g. {rep.analysis.missing[0]}")
        keep = rep.kept
        per_tu = shape.per_tu or rules.target.instantiations_per_tu
        if shape.max_kernels is not None:
            keep = tuple(i for g in group_instantiations(keep, per_tu) for i in g)[: shape.max_kernels]
        if shape.kernels_only or shape.per_tu:
            rules = replace(rules, emit=None if shape.kernels_only else rules.emit,
                            target=replace(rules.target, instantiations_per_tu=per_tu))
        origin = str(src.generator.relative_to(src.path))
        groups = group_instantiations(keep, rules.target.instantiations_per_tu)
        launchers = launcher_sources(groups, rules, rep.analysis.preamble, rep.analysis.namespace, origin)
        search = [*src.include_dirs, nvcc.cuda_include_dir(), Path("/usr/local/include"), Path("/usr/include")]
        stubs = active_stubs(rules, search)
        gemv = None if shape.kernels_only else gemv_selection(src, rules)
        deferred = ""
        try:  # the upstream names the API uses, read from this tree's declarations
            tables = read_tables(rules, ops, compile_spec(src, rules), src.code_root, gemv is not None)
        except BadInput as exc:
            # told after the include closure, which reports a runner TU that cannot be read (with its
            # include chain) first: why such a tree has no API, and --kernels-only the way out
            deferred, tables, rules, gemv = exc.message, None, replace(rules, emit=None), None
        files = tool_files(rules, ops, launchers, stubs, gemv_config(rules, gemv),
                           generated=[(tables.header, tables.text)] if tables else ())
        staging = write_staging(files, cache)
        spec = compile_spec(src, rules, before=[staging / "include"] if rules.emit else [],
                            after=[staging / STUB_DIR] if stubs else [])
        runners = [] if shape.kernels_only else runner_tus(src, rules, ops, spec)
        launcher_tus = [TranslationUnit(staging / GENERATED_DIR / n, "launcher", "cu", spec) for n, _ in launchers]
        api = [TranslationUnit(staging / rel, "api", lang_of(staging / rel), spec)
               for rel in (rules.emit.sources if rules.emit else ())]
        gemv_tus = [TranslationUnit(p, "gemv", "cu", spec) for p in (gemv.sources if gemv else ())]
        seeds = [SymbolJob(t.source, "cu", spec, overlays=rep.analysis.overlays) for t in runners]
        if launcher_tus:  # they share one preamble: one parse stands for all
            seeds.append(SymbolJob(launcher_tus[0].source, "cu", spec,
                                   contents="\n".join(rep.analysis.preamble) + "\n",
                                   instantiated=("::".join((*rep.analysis.namespace, rules.target.launcher)),)))
        if rules.gemv is not None:
            seeds += [SymbolJob(t.source, "cu", spec, instantiated=(rules.gemv.function,)) for t in gemv_tus]
        seeds += [SymbolJob(t.source, t.lang, spec) for t in api]
        names = [f"{GENERATED_DIR}/{n}" for n, _ in launchers]
        recipes = None if gemv is None else {
            "function": rules.gemv.function if rules.gemv else "",
            "args": list(gemv.args), "max_m": gemv.max_m,
            "dispatchers": sorted(str(p.relative_to(src.roots.trtllm)) for p in gemv.sources)}
        return BuildPlan(
            kernels=keep, kernel_tus=tuple(zip(names, map(tuple, groups), strict=True)), files=tuple(files),
            staging=staging, spec=spec, tus=(*runners, *launcher_tus, *gemv_tus, *api), link_seeds=tuple(seeds),
            link_exclude=tuple(t.source for t in launcher_tus), recipes=recipes,
            check_probes=(((f"the preamble of the generated TUs ({names[0]} and the others)",
                            "\n".join(rep.analysis.preamble) + "\n"),) if names else ()),
            deferred=deferred,
        )

    def emit_facts(self, src: SourceTree, kernels: Kernels, plan: BuildPlan, options: Options) -> EmitFacts:
        rep = _report(kernels)
        rules = rep.rules
        emit = None if options.shape.kernels_only else rules.emit
        doc = rules_doc(rules)
        return EmitFacts(
            name=rules.target.name, library=emit.library if emit else rules.target.name.replace("-", "_"),
            variants=rep.quant_ops, rules_path=doc["path"], rules_sha256=doc["sha256"],
            generator_path=str(src.generator.relative_to(src.path)), generator_args=src.generator_args,
            cuda_flags=rules.target.cuda_flags,
            test_sources=emit.test_sources if emit else (), test_libraries=emit.test_libraries if emit else (),
            public_headers=emit.public_headers if emit else (), api_namespace=emit.api_namespace if emit else "",
        )


def gemv_selection(src: SourceTree, rules: Rules) -> GemvSelection | None:
    """The GEMV dispatcher(s) for the target arch, or None where the rules or the tree have no GEMV."""
    if rules.gemv is None or not (src.code_root / rules.gemv.launcher_header).is_file():
        return None
    sel = select_gemv(src.code_root, rules.gemv, int(rules.target.generator_arch))
    if not sel.sources:
        found = "; ".join(f"{p.name}: {', '.join(a)}" for p, a in sel.candidates)
        raise BadInput(f"no GEMV dispatcher instantiates {', '.join(sel.args)} (found: {found})")
    return sel


def gemv_config(rules: Rules, sel: GemvSelection | None) -> list[str]:
    """The config header's GEMV lines: whether it is there, its Details type and its M range."""
    prefix = rules.emit.library.upper() if rules.emit else rules.target.name.replace("-", "_").upper()
    if sel is None:
        return [f"#define {prefix}_HAS_GEMV 0"]
    if rules.gemv is None:
        raise BadInput(f"rules {rules.path}: a GEMV was selected without a [gemv] table")
    ns = rules.gemv.function.rsplit("::", 1)[0]
    return [f"#define {prefix}_HAS_GEMV 1", f"#define {prefix}_GEMV_MAX_M {sel.max_m}",
            f"#define {prefix}_GEMV_KERNEL_TYPE {ns}::{rules.gemv.kernel_type}",
            f"#define {prefix}_GEMV_DETAILS {sel.details}"]


TARGET = FpAIntBTarget()

__all__ = ["TARGET", "FpAIntBTarget", "rules_doc", "shipped_rules"]
