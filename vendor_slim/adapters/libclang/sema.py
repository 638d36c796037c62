"""Semantic parses with libclang: diagnostics of a whole TU, and a template's declaration tokens."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.adapters.libclang import cindex
from vendor_slim.adapters.libclang.tokens import PARSE_KEEP_GOING, Tok


@dataclass(frozen=True)
class Diag:
    severity: int  # 3 error, 4 fatal
    file: str | None
    line: int
    col: int
    message: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class TemplateDecl:
    tokens: tuple[Tok, ...]  # the whole declaration, `template` to `;` excluded
    param_names: tuple[str, ...]  # template parameter names, in order


def cuda_root() -> Path | None:
    nvcc = shutil.which("nvcc")
    return Path(nvcc).resolve().parent.parent if nvcc else None


def cuda_host_args(std: str, arch: str) -> list[str]:
    """clang in CUDA host-only mode: enough to instantiate host templates the way nvcc's front end would."""
    args = ["-x", "cuda", "--cuda-host-only", f"--cuda-gpu-arch=sm_{arch}", "-nocudalib", f"-std={std}"]
    root = cuda_root()
    if root is not None:
        args.append(f"--cuda-path={root}")
        if (root / "include" / "cccl").is_dir():
            args += ["-isystem", str(root / "include" / "cccl")]
    return [*args, "-ferror-limit=0", "-Wno-everything"]


def _parse(path: Path, text: str, args: Sequence[str], overlays: dict[str, str], options: int) -> Any:
    ci = cindex()
    unsaved = [(str(path), text), *sorted(overlays.items())]
    return ci.TranslationUnit.from_source(str(path), list(args), unsaved_files=unsaved, options=options)


def diagnostics(path: Path, text: str, args: Sequence[str], overlays: dict[str, str] | None = None) -> list[Diag]:
    """Errors of the TU after template instantiation (clang instantiates at the end of the TU)."""
    return diagnostics_and_files(path, text, args, overlays)[0]


def diagnostics_and_files(path: Path, text: str, args: Sequence[str], overlays: dict[str, str] | None = None) -> (
    tuple[list[Diag], list[str]]
):
    """The diagnostics and every file the parse read (to key a cached result by their contents)."""
    tu = _parse(path, text, args, overlays or {}, PARSE_KEEP_GOING)
    files = sorted({str(inc.include.name) for inc in tu.get_includes() if inc.include is not None})
    out: list[Diag] = []
    for d in tu.diagnostics:
        if d.severity < 3:
            continue
        loc = d.location
        out.append(
            Diag(d.severity, str(loc.file) if loc.file else None, loc.line, loc.column, d.spelling,
                 tuple(c.spelling for c in d.children))
        )
    return out, files


def template_declaration(path: Path, text: str, args: Sequence[str], namespace: Sequence[str], name: str) -> (
    TemplateDecl | None
):
    """Tokens and parameter names of the function template `namespace::name` declared in the TU."""
    ci = cindex()
    opts = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES | PARSE_KEEP_GOING
    tu = _parse(path, text, args, {}, opts)
    want = (*namespace, name)
    found: Any = None

    def qualified(c: Any) -> tuple[str, ...]:
        parts: list[str] = []
        while c is not None and c.kind != ci.CursorKind.TRANSLATION_UNIT:
            parts.append(c.spelling)
            c = c.semantic_parent
        return tuple(reversed(parts))

    def visit(c: Any, depth: int) -> None:
        nonlocal found
        for ch in c.get_children():
            if found is not None:
                return
            if ch.kind == ci.CursorKind.NAMESPACE and depth < len(namespace) and ch.spelling == namespace[depth]:
                visit(ch, depth + 1)
            elif ch.kind == ci.CursorKind.FUNCTION_TEMPLATE and ch.spelling == name and qualified(ch) == want:
                found = ch

    visit(tu.cursor, 0)
    if found is None:
        return None
    kinds = {ci.TokenKind.KEYWORD: "keyword", ci.TokenKind.IDENTIFIER: "identifier",
             ci.TokenKind.PUNCTUATION: "punctuation", ci.TokenKind.LITERAL: "literal"}
    toks = tuple(
        Tok(t.spelling, kinds.get(t.kind, "other"), t.location.line, t.location.column, t.location.offset)
        for t in found.get_tokens() if t.kind != ci.TokenKind.COMMENT
    )
    params = tuple(
        ch.spelling for ch in found.get_children()
        if ch.kind in (ci.CursorKind.TEMPLATE_TYPE_PARAMETER, ci.CursorKind.TEMPLATE_NON_TYPE_PARAMETER,
                       ci.CursorKind.TEMPLATE_TEMPLATE_PARAMETER)
    )
    return TemplateDecl(toks, params)
