"""Application layer: wires stages together for the CLI (stages never import each other's callers)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from vendor_slim.adapters import nvcc
from vendor_slim.adapters.cache import cache_dir
from vendor_slim.adapters.gitinfo import git_info
from vendor_slim.engine.closure import compute_closure, oracle_diff
from vendor_slim.engine.emit.plan import check_out, plan_tree, render_lock, write_tree
from vendor_slim.engine.link import LinkResult, SymbolJob, link_closure
from vendor_slim.errors import BadInput, CheckFailed
from vendor_slim.layout import GENERATED_DIR, STUB_DIR
from vendor_slim.models import (
    ClosureReport,
    CompileSpec,
    EmitInput,
    Instantiation,
    SourceTree,
    TranslationUnit,
    Upstream,
)
from vendor_slim.targets.profile import detect
from vendor_slim.targets.trtllm_fpaintb.gemv import GemvSelection, select_gemv
from vendor_slim.targets.trtllm_fpaintb.rulefile import RULES_DIR, Rules, load_profiles, load_rules, resolve_quant_ops
from vendor_slim.targets.trtllm_fpaintb.select import KernelsReport, select_kernels
from vendor_slim.targets.trtllm_fpaintb.units import (
    ToolFile,
    active_stubs,
    compile_spec,
    group_instantiations,
    lang_of,
    launcher_sources,
    runner_tus,
    tool_files,
    write_staging,
)


def load(trtllm: Path, cutlass: Path | None, rules_path: Path | None,
         quant_op: tuple[str, ...]) -> tuple[SourceTree, Rules, tuple[str, ...]]:
    rules = load_rules(rules_path)
    ops = resolve_quant_ops(rules, quant_op)
    src, _ = detect(trtllm, load_profiles(), cutlass=cutlass)
    return src, rules, ops


def kernels_report(trtllm: Path, cutlass: Path | None, rules_path: Path | None,
                   quant_op: tuple[str, ...]) -> tuple[KernelsReport, str | None]:
    src, rules, ops = load(trtllm, cutlass, rules_path, quant_op)
    rep = select_kernels(src, rules, ops, cache_dir())
    return rep, git_info(src.path).commit


@dataclass(frozen=True)
class Target:
    """The analysed target: its TUs, their include closure and link closure, ready to emit."""

    src: SourceTree
    rules: Rules
    quant_ops: tuple[str, ...]
    kernels: KernelsReport
    keep: tuple[Instantiation, ...]
    groups: tuple[tuple[str, tuple[Instantiation, ...]], ...]  # generated TU path and its kernels
    files: tuple[ToolFile, ...]
    staging: Path
    spec: CompileSpec
    tus: tuple[TranslationUnit, ...]
    link: LinkResult
    closure: ClosureReport
    gemv: GemvSelection | None = None


@dataclass(frozen=True)
class Shape:
    """What of the target to build: all of it, or (for trees whose runner cannot build, and for smoke
    builds) only the launcher library, optionally only its first kernels."""

    kernels_only: bool = False  # no runner TU, no public API, no test program
    max_kernels: int | None = None  # keep the first N selected kernels (in the tool's grouping order)
    per_tu: int | None = None  # instantiations per generated TU (default: the rules')


def build_target(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
                 jobs: int, shape: Shape = Shape()) -> Target:
    """Selection, tool-owned TUs, include closure, link closure (to a fixed point), closure of all."""
    src, rules, ops = load(trtllm, cutlass, rules_path, quant_op)
    cache = cache_dir()
    rep = select_kernels(src, rules, ops, cache)
    if rep.analysis.missing:
        raise CheckFailed(f"the runner references {len(rep.analysis.missing)} launcher(s) that the generator "
                          f"does not write, e.g. {rep.analysis.missing[0]}")
    keep = tuple(inst for i, inst in enumerate(rep.instantiations) if i in rep.selected and i in rep.needed)
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
    files = tool_files(rules, ops, launchers, stubs, gemv_config(rules, gemv))
    staging = write_staging(files, cache)
    spec = compile_spec(src, rules, before=[staging / "include"] if rules.emit else [],
                        after=[staging / STUB_DIR] if stubs else [])
    runners = [] if shape.kernels_only else runner_tus(src, rules, ops, spec)
    launcher_tus = [TranslationUnit(staging / GENERATED_DIR / n, "launcher", "cu", spec) for n, _ in launchers]
    api = [TranslationUnit(staging / rel, "api", lang_of(staging / rel), spec)
           for rel in (rules.emit.sources if rules.emit else ())]
    gemv_tus = [TranslationUnit(p, "gemv", "cu", spec) for p in (gemv.sources if gemv else ())]
    first = [*runners, *launcher_tus, *gemv_tus, *api]
    closure_cache = cache / "closure"
    compute_closure(first, src.roots, jobs=jobs, cache_dir=closure_cache)  # a missing header stops here
    overlays = rep.analysis.overlays
    symbol_jobs = [SymbolJob(t.source, "cu", spec, overlays=overlays) for t in runners]
    if launcher_tus:  # they share one preamble: one parse stands for all
        symbol_jobs.append(SymbolJob(launcher_tus[0].source, "cu", spec,
                                     contents="\n".join(rep.analysis.preamble) + "\n",
                                     instantiated=("::".join((*rep.analysis.namespace, rules.target.launcher)),)))
    if rules.gemv is not None:
        symbol_jobs += [SymbolJob(t.source, "cu", spec, instantiated=(rules.gemv.function,)) for t in gemv_tus]
    symbol_jobs += [SymbolJob(t.source, t.lang, spec) for t in api]
    link = link_closure(symbol_jobs, src.roots, src.code_root, spec, cache / "symbols",
                        exclude=[t.source for t in launcher_tus])
    tus = (*first, *(TranslationUnit(p, "link", lang_of(p), spec) for p in link.sources))
    closure = compute_closure(tus, src.roots, jobs=jobs, cache_dir=closure_cache)
    names = [f"{GENERATED_DIR}/{n}" for n, _ in launchers]
    return Target(src, rules, ops, rep, keep, tuple(zip(names, map(tuple, groups), strict=True)),
                  tuple(files), staging, spec, tus, link, closure, gemv)


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
    assert rules.gemv is not None
    ns = rules.gemv.function.rsplit("::", 1)[0]
    return [f"#define {prefix}_HAS_GEMV 1", f"#define {prefix}_GEMV_MAX_M {sel.max_m}",
            f"#define {prefix}_GEMV_KERNEL_TYPE {ns}::{rules.gemv.kernel_type}",
            f"#define {prefix}_GEMV_DETAILS {sel.details}"]


def _target_for(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
                only: tuple[str, ...], jobs: int) -> tuple[Target, list[TranslationUnit]]:
    """The target and its TUs of the roles in `only` (all when empty). `only=("launcher",)` analyses
    the launchers alone (C1's runner TU cannot be read whole)."""
    kernels_only = bool(only) and not ({"runner", "api", "link"} & set(only))
    t = build_target(trtllm, cutlass, rules_path, quant_op, jobs, Shape(kernels_only=kernels_only))
    return t, [tu for tu in t.tus if not only or tu.role in only]


def target_units(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
                 only: tuple[str, ...] = (), jobs: int = 1) -> tuple[SourceTree, list[TranslationUnit]]:
    """The target's TUs: runner TU(s), regrouped launcher TUs, GEMV and API TUs, link-closure sources."""
    t, tus = _target_for(trtllm, cutlass, rules_path, quant_op, only, jobs)
    return t.src, tus


def target_closure(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
                   jobs: int, only: tuple[str, ...] = ()) -> tuple[ClosureReport, list[TranslationUnit]]:
    t, tus = _target_for(trtllm, cutlass, rules_path, quant_op, only, jobs)
    if len(tus) == len(t.tus):
        return t.closure, tus  # build_target computed exactly this
    return compute_closure(tus, t.src.roots, jobs=jobs, cache_dir=cache_dir() / "closure"), tus


def oracle_report(report: ClosureReport, tus: list[TranslationUnit]) -> dict[str, list[str]]:
    missing: set[str] = set()
    extra: set[str] = set()
    for tu, clo in zip(tus, report.tus, strict=True):
        m, e = oracle_diff(tu, clo, report.roots)
        missing.update(f"{tu.source}: {p}" for p in m)
        extra.update(f"{tu.source}: {p}" for p in e)
    return {"missing": sorted(missing), "extra": sorted(extra)}


# Which CMake target provides the functions declared in a CUDA toolkit header.
_CUDA_LIBS = {"cuda_runtime_api.h": "CUDA::cudart", "cuda_runtime.h": "CUDA::cudart", "cuda.h": "CUDA::cuda_driver",
              "cublasLt.h": "CUDA::cublasLt", "cublas_api.h": "CUDA::cublas", "cublas_v2.h": "CUDA::cublas"}


def public_remote(remote: str | None) -> str | None:
    """A remote worth recording: a URL (scheme:// or user@host:path); a local path is a machine path."""
    if remote and (("://" in remote and not remote.startswith("file:"))
                   or re.match(r"^[\w.-]+@[\w.-]+:", remote)):
        return remote
    return None


def emit_input(t: Target) -> EmitInput:
    """Map the analysed target onto what the emitted tree holds."""
    roots = t.src.roots
    vendored = sorted(((roots.classify(p) or ""), p) for p in t.closure.union if t.staging not in p.parents)
    stray = [str(p) for name, p in vendored if name == ""]
    if stray:
        raise BadInput(f"internal: closure files outside the upstream roots: {', '.join(stray[:3])}")
    # cudart always; the driver library for cuTensorMapEncodeTiled, which CUTLASS reaches through a
    # dependent call the symbol walk cannot follow; the rest only where a TU reaches a function of it
    libs = ["CUDA::cudart", "CUDA::cuda_driver"]
    for header in t.link.external:
        lib = _CUDA_LIBS.get(header)
        if lib and lib not in libs:
            libs.append(lib)
    upstreams = []
    for name, root, repo in (("trtllm", roots.trtllm, t.src.path), ("cutlass", roots.cutlass, roots.cutlass)):
        g = git_info(repo)
        upstreams.append(Upstream(name, root, repo, t.src.layout if name == "trtllm" else None,
                                  public_remote(g.remote), g.commit, g.dirty))
    # a stub is emitted only where a compile reads it: the rules may declare stubs other trees need
    read = {p for c in t.closure.tus for p in (*c.files, *c.external)}
    stubs_read = {f for f in t.files if f.role == "stub" and t.staging / f.path in read}
    emit = t.rules.emit
    library = emit.library if emit else t.rules.target.name.replace("-", "_")
    rules_rel = (f"rules/{t.rules.path.relative_to(RULES_DIR).as_posix()}"
                 if RULES_DIR in t.rules.path.parents else t.rules.path.name)
    return EmitInput(
        name=t.rules.target.name, library=library, upstreams=tuple(upstreams),
        vendored=tuple(vendored), tool_files=tuple(f for f in t.files if f.role != "stub" or f in stubs_read),
        staging=t.staging, tus=t.tus,
        include_dirs=tuple(d for d in t.spec.include_dirs if d != t.staging / STUB_DIR or stubs_read),
        defines=t.spec.defines, std=t.spec.std, cuda_arch=t.spec.cuda_arch,
        cuda_flags=t.rules.target.cuda_flags, link_libraries=tuple(libs),
        test_sources=emit.test_sources if emit else (), test_libraries=emit.test_libraries if emit else (),
        public_headers=emit.public_headers if emit else (), kernels=t.keep, kernel_tus=t.groups,
        link_sources=t.link.pulled_by, quant_ops=t.quant_ops, rules_path=rules_rel,
        rules_sha256=t.rules.sha256, generator_path=str(t.src.generator.relative_to(t.src.path)),
        generator_args=t.src.generator_args,
        api_namespace=emit.api_namespace if emit else "",
        gemv=None if t.gemv is None else {
            "function": t.rules.gemv.function if t.rules.gemv else "",
            "args": list(t.gemv.args), "max_m": t.gemv.max_m,
            "dispatchers": sorted(str(p.relative_to(t.src.roots.trtllm)) for p in t.gemv.sources)},
    )


def extract(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
            out: Path, jobs: int, force: bool, shape: Shape = Shape()) -> tuple[str, Target, int]:
    """Analyse, plan and write the tree; returns (created|replaced|unchanged, target, file count)."""
    check_out(out, [trtllm] + ([cutlass] if cutlass else []))
    t = build_target(trtllm, cutlass, rules_path, quant_op, jobs, shape)
    check_out(out, [t.src.roots.trtllm, t.src.roots.cutlass])
    if t.link.unresolved:
        raise BadInput("the link closure found no in-tree source for: " + "; ".join(t.link.unresolved))
    inp = emit_input(t)
    files = plan_tree(inp)
    lock = render_lock(inp, files)
    return write_tree(out, files, lock, force=force), t, len(files) + 1
