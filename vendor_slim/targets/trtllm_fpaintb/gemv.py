"""GEMV recipe: which CUDA-core batched GEMV dispatcher TU(s) the target needs, read from the source.

TensorRT-LLM instantiates its weight-only GEMV per data type in `kernelDispatcher*.cu`, one macro
invocation each (`INSTANTIATE_WEIGHT_ONLY_CUDA_DISPATCHERS(KType, A, W, Layout, Interleave, KTile)`),
and picks one at run time in `kernel_launcher(arch, ...)` by arch ranges and kernel type, through a
second macro (`EXEC(KType, A, W, Layout, Interleave)`) whose body fixes the K tile. The stage
evaluates those arch conditions for the target arch, finds the EXEC for the rules' kernel type,
expands EXEC's body to the full set of template arguments, and keeps the dispatcher files whose
instantiation has exactly those arguments (token by token, not by file name). The M range is read
from the dispatcher header's per-M cases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters.libclang.tokens import (
    BRACES,
    PARENS,
    Lexed,
    Tok,
    closing_index,
    depth_delta,
    lex,
    split_arguments,
)
from vendor_slim.errors import BadInput
from vendor_slim.targets.trtllm_fpaintb.instantiations import join, split_directives
from vendor_slim.targets.trtllm_fpaintb.rulefile import GemvRule


@dataclass(frozen=True)
class GemvSelection:
    args: tuple[str, ...]  # the dispatcher instantiation's macro arguments
    details: str  # the Details template argument, fully spelled (for the API's config header)
    sources: tuple[Path, ...]  # the dispatcher TU(s) holding that instantiation
    candidates: tuple[tuple[Path, tuple[str, ...]], ...]  # every dispatcher TU and its arguments
    max_m: int


def _call_args(toks: Sequence[Tok], open_idx: int) -> tuple[list[list[Tok]], int]:
    """Arguments of the call whose '(' is at open_idx, split at top-level commas; and the ')' index."""
    found = split_arguments(toks, open_idx, PARENS)
    if found is None:
        raise BadInput("unbalanced parentheses in a macro invocation")
    return found


def invocations(toks: Sequence[Tok], name: str) -> list[tuple[int, list[str]]]:
    """(token index, arguments) of each `name(...)` in code tokens (directive lines excluded by caller)."""
    out = []
    for i, t in enumerate(toks):
        if t.spelling == name and i + 1 < len(toks) and toks[i + 1].spelling == "(":
            args, _ = _call_args(toks, i + 1)
            out.append((i, [join(a) for a in args]))
    return out


def _strip_directives(lexed: Lexed) -> tuple[list[Tok], list[list[Tok]]]:
    """Code tokens outside the preprocessor's skipped ranges, and the directives."""
    code, directives = split_directives(lexed)
    return [t for t in code if not any(a <= t.line <= b for a, b in lexed.skipped)], directives


_COND_TOKENS = re.compile(r"^(\d+|[A-Za-z_]\w*|>=|<=|==|!=|&&|\|\||[<>()!])$")


def _eval_condition(toks: Sequence[Tok], variable: str, value: int) -> bool | None:
    """Evaluate `arch >= 80 && arch < 90`-style conditions; None if it is anything else."""
    parts: list[str] = []
    for t in toks:
        s = t.spelling
        if not _COND_TOKENS.match(s):
            return None
        if s == variable:
            parts.append(str(value))
        elif s == "&&":
            parts.append(" and ")
        elif s == "||":
            parts.append(" or ")
        elif s == "!":
            parts.append(" not ")
        elif s.isdigit() or s in (">=", "<=", "==", "!=", "<", ">", "(", ")"):
            parts.append(s)
        else:
            return None
    try:
        return bool(eval("".join(parts), {"__builtins__": {}}, {}))  # only digits and comparisons reach here
    except SyntaxError:
        return None


def _block_for(toks: Sequence[Tok], start: int, end: int, variable: str, value: int) -> tuple[int, int] | None:
    """The body of the first `if (cond)` in toks[start:end] (at depth 0) whose condition holds."""
    i = start
    depth = 0
    while i < end:
        s = toks[i].spelling
        depth += depth_delta(s, BRACES)
        if s == "if" and depth == 0 and i + 1 < end and toks[i + 1].spelling == "(":
            cond, close = _call_args(toks, i + 1)
            flat = [t for a in cond for t in a]
            ok = _eval_condition(flat, variable, value)
            body_open = close + 1
            if body_open < end and toks[body_open].spelling == "{":
                j = closing_index(toks, body_open, BRACES, end)
                if j is not None:
                    if ok:
                        return body_open + 1, j
                    i = j
        i += 1
    return None


def _function_body(toks: Sequence[Tok], name: str) -> tuple[int, int]:
    for i, t in enumerate(toks):
        if t.spelling == name and i + 1 < len(toks) and toks[i + 1].spelling == "(":
            _, close = _call_args(toks, i + 1)
            j = close + 1
            if j < len(toks) and toks[j].spelling == "{":
                d = 0
                for k in range(j, len(toks)):
                    d += {"{": 1, "}": -1}.get(toks[k].spelling, 0)
                    if d == 0:
                        return j + 1, k
    raise BadInput(f"no definition of {name}() found")


def _macro_definition(directives: Sequence[Sequence[Tok]], name: str) -> tuple[list[str], list[Tok]]:
    for d in directives:
        if len(d) > 3 and d[1].spelling == "define" and d[2].spelling == name and d[3].spelling == "(":
            params, close = _call_args(d, 3)
            return [join(p) for p in params], list(d[close + 1:])
    raise BadInput(f"no #define of {name} found")


def _canon(s: str) -> str:
    return re.sub(r"\s+", "", s)


def select_gemv(code_root: Path, rule: GemvRule, arch: int) -> GemvSelection:
    header = code_root / rule.launcher_header
    if not header.is_file():
        raise BadInput(f"GEMV launcher header {header} does not exist")
    code, directives = _strip_directives(lex(header, header.read_text()))
    start, end = _function_body(code, rule.launcher_function)
    block = _block_for(code, start, end, rule.arch_variable, arch)
    if block is None:
        raise BadInput(f"{header}: no arch branch of {rule.launcher_function} holds for arch {arch}")
    execs = [args for i, args in invocations(code[block[0]:block[1]], rule.exec_macro)
             if args and _canon(args[0]) == _canon(rule.kernel_type)]
    if not execs:
        raise BadInput(f"{header}: the arch {arch} branch has no {rule.exec_macro}({rule.kernel_type}, ...)")
    params, body = _macro_definition(directives, rule.exec_macro)
    bound = dict(zip(params, execs[0], strict=False))
    fn = rule.function.rsplit("::", 1)[-1]
    calls = [k for k, t in enumerate(body) if t.spelling == fn]
    if not calls:
        raise BadInput(f"{header}: {rule.exec_macro}'s body does not call {fn}")
    # the call's template arguments, with the macro's parameters substituted
    k = calls[0] + 1
    depth = 0
    targs: list[list[Tok]] = [[]]
    for t in body[k:]:
        s = t.spelling
        if s == "<":
            depth += 1
            if depth == 1:
                continue
        elif s in (">", ">>"):
            depth -= 2 if s == ">>" else 1
            if depth <= 0:
                if s == ">>" and depth == 0:  # the first '>' closes an inner list, the second the call's
                    targs[-1].append(Tok(">", t.kind, t.line, t.col, t.offset))
                break
        if s == "," and depth == 1:
            targs.append([])
            continue
        targs[-1].append(t)
    details_toks = targs[-1]
    details = join([Tok(bound.get(t.spelling, t.spelling), t.kind, t.line, t.col, t.offset) for t in details_toks])
    inner = details[details.index("<") + 1: details.rindex(">")]
    want = [_canon(rule.kernel_type), *[_canon(a) for a in inner.split(",")]]
    candidates: list[tuple[Path, tuple[str, ...]]] = []
    for p in sorted(code_root.glob(rule.dispatchers)):
        dcode, _ = _strip_directives(lex(p, p.read_text()))
        for _, args in invocations(dcode, rule.instantiate_macro):
            candidates.append((p, tuple(args)))
    sources = tuple(p for p, args in candidates if [_canon(a) for a in args] == want)
    dh = code_root / rule.dispatcher_header
    dcode, _ = _strip_directives(lex(dh, dh.read_text()))
    ms = sorted({int(args[0]) for _, args in invocations(dcode, rule.m_macro) if args and args[0].isdigit()})
    if not ms or ms != list(range(1, ms[-1] + 1)):
        raise BadInput(f"{dh}: cannot read a contiguous M range from {rule.m_macro}(...) (found {ms})")
    ns = rule.function.rsplit("::", 1)[0]
    qualified = re.sub(r"(?<![\w:])([A-Z]\w*)", lambda m: f"{ns}::{m.group(1)}", details)
    return GemvSelection(tuple(want), qualified, sources, tuple(candidates), ms[-1])
