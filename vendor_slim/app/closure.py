"""`closure`, `why`, `graph`: the include closure of the target's TUs (per TU, in union, as a graph)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from vendor_slim.app.pipeline import Built, build, shown_path
from vendor_slim.app.settings import Settings
from vendor_slim.engine.closure import compute_closure, oracle_diff, why, why_all
from vendor_slim.models import ClosureReport, TranslationUnit


def analysed(settings: Settings) -> tuple[Built, ClosureReport, list[TranslationUnit]]:
    """The analysed target and the closure of its TUs of the roles in `settings.only` (all when empty).
    `--only launcher` analyses the launchers alone (C1's runner TU cannot be read whole)."""
    only = settings.only
    kernels_only = bool(only) and not ({"runner", "api", "link", "gemv"} & set(only))
    b = build(replace(settings, shape=replace(settings.shape, kernels_only=kernels_only)))
    tus = [tu for tu in b.tus if not only or tu.role in only]
    if len(tus) == len(b.tus):
        return b, b.closure, tus  # build computed exactly this
    return b, compute_closure(tus, b.src.roots, jobs=settings.jobs, cache_dir=settings.cache / "closure"), tus


def target_closure(settings: Settings) -> tuple[ClosureReport, list[TranslationUnit]]:
    _b, report, tus = analysed(settings)
    return report, tus


def oracle_report(report: ClosureReport, tus: list[TranslationUnit]) -> dict[str, list[str]]:
    """What `nvcc -M` (`c++ -M` for host TUs) reads that the closure lacks, and the reverse."""
    missing: set[str] = set()
    extra: set[str] = set()
    for tu, clo in zip(tus, report.tus, strict=True):
        m, e = oracle_diff(tu, clo, report.roots)
        missing.update(f"{tu.source}: {p}" for p in m)
        extra.update(f"{tu.source}: {p}" for p in e)
    return {"missing": sorted(missing), "extra": sorted(extra)}


def why_chain(settings: Settings, file: Path) -> list[Path]:
    report, _ = target_closure(settings)
    return why(report, file)


def why_document(settings: Settings, file: Path) -> dict[str, Any]:
    """`why --json`: every file FILE names, each with its shortest chain from a TU; per step the file (as the
    user knows it: upstream-relative, tool files by their emitted path) and the line of its #include of the next.
    Raises CheckFailed (exit 1) when no TU reads such a file."""
    b, report, _ = analysed(settings)
    roles = {str(c.source): c.role for c in report.tus}
    matches = why_all(report, file)
    return {"file": str(file), "matches": [
        {"file": shown_path(b, target), "chain": [
            {"file": shown_path(b, node), "line": chain[k + 1][1] if k + 1 < len(chain) else None,
             **({"role": roles.get(node)} if k == 0 else {})}
            for k, (node, _line) in enumerate(chain)]}
        for target, chain in matches]}
