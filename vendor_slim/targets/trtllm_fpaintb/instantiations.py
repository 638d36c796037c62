"""Split generated files into explicit instantiations, from libclang tokens (no regex over text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from vendor_slim.adapters.libclang.tokens import ANGLES, NESTING, Lexed, Tok, depth_delta
from vendor_slim.models import Instantiation

_WORDY = ("identifier", "keyword", "literal")
_SHAPE_FIELDS = ("cta", "cluster")


@dataclass(frozen=True)
class ParsedFile:
    preamble: tuple[str, ...]  # #include lines before the first declaration, as written
    instantiations: tuple[Instantiation, ...]
    disabled: frozenset[int]  # indexes of instantiations the preprocessor skips under the target's defines


def join(tokens: Sequence[Tok]) -> str:
    """Tokens back to C++ text: a space only where two words would otherwise merge, and after commas."""
    out: list[str] = []
    prev: Tok | None = None
    for t in tokens:
        if prev is not None and (
            (prev.kind in _WORDY and t.kind in _WORDY) or prev.spelling == ","
        ):
            out.append(" ")
        out.append(t.spelling)
        prev = t
    return "".join(out)


def split_directives(lexed: Lexed) -> tuple[list[Tok], list[list[Tok]]]:
    """Code tokens, and preprocessor directives (each a token list), comments dropped."""
    code: list[Tok] = []
    directives: list[list[Tok]] = []
    toks = [t for t in lexed.tokens if t.kind != "comment"]
    i = 0
    prev_line = 0
    while i < len(toks):
        t = toks[i]
        if t.spelling == "#" and t.line != prev_line:
            end_line = t.line
            while end_line - 1 < len(lexed.lines) and lexed.lines[end_line - 1].rstrip().endswith("\\"):
                end_line += 1
            j = i
            while j < len(toks) and toks[j].line <= end_line:
                j += 1
            directives.append(toks[i:j])
            prev_line = end_line
            i = j
            continue
        code.append(t)
        prev_line = t.line
        i += 1
    return code, directives


def _find_params_open(toks: Sequence[Tok]) -> int | None:
    """Index of the '(' that opens the parameter list: the first '(' outside <> and ()."""
    angle = paren = 0
    for i, t in enumerate(toks):
        s = t.spelling
        if paren == 0:
            if s == "(" and angle == 0:
                return i
            angle = max(angle + depth_delta(s, ANGLES), 0)
        if s == "(":
            paren += 1
        elif s == ")":
            paren = max(paren - 1, 0)
    return None


def _split_args(toks: Sequence[Tok]) -> list[list[Tok]]:
    """Template arguments of `<...>` (toks excludes the outer brackets), split at top-level commas."""
    args: list[list[Tok]] = [[]]
    angle = paren = 0
    for t in toks:
        s = t.spelling
        if s in ("(", "[", "{"):
            paren += 1
        elif s in (")", "]", "}"):
            paren -= 1
        elif paren == 0:
            angle += depth_delta(s, ANGLES)
        if s == "," and angle == 0 and paren == 0:
            args.append([])
            continue
        args[-1].append(t)
    return [a for a in args if a]


def _parse_declarator(toks: Sequence[Tok]) -> tuple[str, str, list[list[Tok]], str] | None:
    """RET NAME<ARGS>(PARAMS) → (ret, name, args, params); None when it is not that shape."""
    open_idx = _find_params_open(toks)
    if open_idx is None or open_idx == 0 or toks[-1].spelling != ")":
        return None
    head = list(toks[:open_idx])
    params = join(toks[open_idx + 1 : -1])
    args: list[list[Tok]] = []
    if head[-1].spelling in (">", ">>"):
        # Walk back to the '<' that opens the argument list.
        depth = 0
        k = len(head) - 1
        paren = 0
        while k >= 0:
            s = head[k].spelling
            if s == ")":
                paren += 1
            elif s == "(":
                paren -= 1
            elif paren == 0:
                depth -= depth_delta(s, ANGLES)
                if depth == 0:
                    break
            k -= 1
        if k <= 0:
            return None
        inner = list(head[k + 1 : -1])
        if head[-1].spelling == ">>":
            # Two levels close at once: the last argument ends with '>'.
            inner.append(Tok(">", "punctuation", head[-1].line, head[-1].col, head[-1].offset))
        args = _split_args(inner)
        head = head[:k]
    if not head or head[-1].kind != "identifier":
        return None
    name_end = len(head)
    name_start = name_end - 1
    while name_start >= 2 and head[name_start - 1].spelling == "::" and head[name_start - 2].kind == "identifier":
        name_start -= 2
    name = join(head[name_start:name_end])
    ret = join(head[:name_start])
    if not ret:
        return None
    return ret, name, args, params


def _ints(toks: Sequence[Tok]) -> tuple[int, ...]:
    out: list[int] = []
    for t in toks:
        s = t.spelling
        if t.kind == "literal" and s.rstrip("uUlL").isdigit():
            out.append(int(s.rstrip("uUlL")))
        elif t.kind == "identifier" and s.startswith("_") and s[1:].isdigit():
            out.append(int(s[1:]))  # cute::_128
    return tuple(out)


def parse_generated(lexed: Lexed, file: str, arg_fields: Sequence[str]) -> ParsedFile:
    """Explicit instantiations of `lexed`, in order, with their enclosing namespaces and fields."""
    code, directives = split_directives(lexed)
    first_code_line = code[0].line if code else 1 << 30
    preamble = tuple(
        join(d) for d in directives if len(d) > 2 and d[1].spelling == "include" and d[0].line < first_code_line
    )
    stack: list[tuple[str, ...]] = []  # per open brace: the namespaces it opens (() for other braces)
    insts: list[Instantiation] = []
    disabled: set[int] = set()
    i = 0
    n = len(code)
    while i < n:
        s = code[i].spelling
        if s == "namespace":
            j = i + 1
            names: list[str] = []
            while j < n and code[j].spelling not in ("{", ";", "="):
                if code[j].kind == "identifier":
                    names.append(code[j].spelling)
                j += 1
            if j < n and code[j].spelling == "{":
                stack.append(tuple(names) or ("",))  # `namespace a::b {` opens two in one brace
            i = j + 1
            continue
        if s == "{":
            stack.append(())
        elif s == "}":
            if stack:
                stack.pop()
        elif s == "extern" and i + 1 < n and code[i + 1].spelling == "template":
            i = _skip_statement(code, i)
            continue
        elif s == "template" and i + 1 < n and code[i + 1].spelling != "<":
            end = _skip_statement(code, i)
            body = code[i + 1 : end - 1] if end - 1 < n and code[end - 1].spelling == ";" else []
            parsed = _parse_declarator(body) if body else None
            if parsed is not None:
                ret, name, args, params = parsed
                line = code[i].line
                ns = tuple(nm for opened in stack for nm in opened)
                inst = _record(file, len(insts), name, ns, args, params, ret, arg_fields)
                if any(a <= line <= b for a, b in lexed.skipped):
                    disabled.add(inst.index)
                insts.append(inst)
            i = end
            continue
        i += 1
    return ParsedFile(preamble, tuple(insts), frozenset(disabled))


def _skip_statement(code: Sequence[Tok], i: int) -> int:
    """Index just past the ';' ending the statement that starts at i (braces balanced)."""
    depth = 0
    n = len(code)
    while i < n:
        s = code[i].spelling
        depth += depth_delta(s, NESTING)
        if s == ";" and depth <= 0:
            return i + 1
        i += 1
    return n


def _record(
    file: str,
    index: int,
    name: str,
    ns: tuple[str, ...],
    args: list[list[Tok]],
    params: str,
    ret: str,
    arg_fields: Sequence[str],
) -> Instantiation:
    inst = Instantiation(
        file=file, index=index, function=name.split("::")[-1], namespace=ns,
        args=tuple(join(a) for a in args), params=params, return_type=ret,
    )
    values: dict[str, object] = {}
    for fld, toks in zip(arg_fields, args, strict=False):
        if fld in _SHAPE_FIELDS:
            values[fld] = _ints(toks)
        elif fld == "quant_op":
            values[fld] = join(toks).split("::")[-1]
        elif fld in Instantiation.__dataclass_fields__:
            values[fld] = join(toks)
    return replace(inst, **values)  # type: ignore[arg-type]
