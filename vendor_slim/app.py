"""Application layer: wires stages together for the CLI (stages never import each other's callers)."""

from __future__ import annotations

from pathlib import Path

from vendor_slim.adapters.gitinfo import git_info
from vendor_slim.cache import cache_dir
from vendor_slim.models import ClosureReport, SourceTree, TranslationUnit
from vendor_slim.rules import Rules, load_profiles, load_rules, resolve_quant_ops
from vendor_slim.stages.closure import compute_closure, oracle_diff
from vendor_slim.stages.profile import detect
from vendor_slim.stages.select import KernelsReport, select_kernels
from vendor_slim.stages.target import entry_sources, launcher_sources, target_tus, write_sources


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


def target_units(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
                 only: tuple[str, ...] = ()) -> tuple[SourceTree, list[TranslationUnit]]:
    """The target's TUs: runner TU(s), regrouped launcher TUs (written to the cache), link sources."""
    src, rules, ops = load(trtllm, cutlass, rules_path, quant_op)
    cache = cache_dir()
    rep = select_kernels(src, rules, ops, cache)
    keep = [inst for i, inst in enumerate(rep.instantiations) if i in rep.selected and i in rep.needed]
    sources = launcher_sources(keep, rules, rep.analysis.preamble, rep.analysis.namespace,
                               str(src.generator.relative_to(src.path)))
    files = write_sources(sources, cache)
    tus = target_tus(src, rules, ops, files, entry_sources(src, rules))
    if only:
        tus = [tu for tu in tus if tu.role in only]
    return src, tus


def target_closure(trtllm: Path, cutlass: Path | None, rules_path: Path | None, quant_op: tuple[str, ...],
                   jobs: int, only: tuple[str, ...] = ()) -> tuple[ClosureReport, list[TranslationUnit]]:
    src, tus = target_units(trtllm, cutlass, rules_path, quant_op, only)
    return compute_closure(tus, src.roots, jobs=jobs, cache_dir=cache_dir() / "closure"), tus


def oracle_report(report: ClosureReport, tus: list[TranslationUnit]) -> dict[str, list[str]]:
    missing: set[str] = set()
    extra: set[str] = set()
    for tu, clo in zip(tus, report.tus, strict=True):
        m, e = oracle_diff(tu, clo, report.roots)
        missing.update(f"{tu.source}: {p}" for p in m)
        extra.update(f"{tu.source}: {p}" for p in e)
    return {"missing": sorted(missing), "extra": sorted(extra)}
