"""Application layer: wires stages together for the CLI (stages never import each other's callers)."""

from __future__ import annotations

from pathlib import Path

from vendor_slim.adapters.gitinfo import git_info
from vendor_slim.cache import cache_dir
from vendor_slim.models import SourceTree
from vendor_slim.rules import Rules, load_profiles, load_rules, resolve_quant_ops
from vendor_slim.stages.profile import detect
from vendor_slim.stages.select import KernelsReport, select_kernels


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
