"""`closure`, `why`, `graph`: the include closure of the target's TUs (per TU, in union, as a graph)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vendor_slim.app.pipeline import build
from vendor_slim.app.settings import Settings
from vendor_slim.engine.closure import compute_closure, oracle_diff, why
from vendor_slim.models import ClosureReport, TranslationUnit


def target_closure(settings: Settings) -> tuple[ClosureReport, list[TranslationUnit]]:
    """The closure of the target's TUs of the roles in `settings.only` (all when empty).
    `--only launcher` analyses the launchers alone (C1's runner TU cannot be read whole)."""
    only = settings.only
    kernels_only = bool(only) and not ({"runner", "api", "link"} & set(only))
    b = build(replace(settings, shape=replace(settings.shape, kernels_only=kernels_only)))
    tus = [tu for tu in b.tus if not only or tu.role in only]
    if len(tus) == len(b.tus):
        return b.closure, tus  # build computed exactly this
    return compute_closure(tus, b.src.roots, jobs=settings.jobs, cache_dir=settings.cache / "closure"), tus


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
