"""Lexing with libclang: a file's tokens and the line ranges its preprocessor skips."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.adapters.libclang import cindex

PARSE_KEEP_GOING = 0x200  # CXTranslationUnit_KeepGoing: go on after fatal errors (missing headers)


@dataclass(frozen=True)
class Tok:
    spelling: str
    kind: str  # keyword | identifier | punctuation | literal | comment
    line: int
    col: int
    offset: int


@dataclass(frozen=True)
class Lexed:
    tokens: tuple[Tok, ...]
    skipped: tuple[tuple[int, int], ...]  # inclusive line ranges the preprocessor skipped
    lines: tuple[str, ...]  # physical source lines, to see line continuations of directives


class _RangeList(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint), ("ranges", ctypes.c_void_p)]


def _skipped_ranges(ci: Any, tu: Any, path: str) -> list[tuple[int, int]]:
    lib = ci.conf.lib
    fn = lib.clang_getSkippedRanges
    fn.restype = ctypes.POINTER(_RangeList)
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    cxfile = ci.File.from_name(tu, path)
    lst = fn(tu.obj if hasattr(tu, "obj") else tu._as_parameter_, cxfile._as_parameter_)
    out: list[tuple[int, int]] = []
    if not lst:
        return out
    arr = ctypes.cast(lst.contents.ranges, ctypes.POINTER(ci.SourceRange))
    for i in range(lst.contents.count):
        rng = arr[i]
        out.append((rng.start.line, rng.end.line))
    lib.clang_disposeSourceRangeList.argtypes = [ctypes.POINTER(_RangeList)]
    lib.clang_disposeSourceRangeList(lst)
    return out


def lex(path: Path, text: str, defines: Sequence[str] = ()) -> Lexed:
    """Tokens of `text` (as file `path`) and the lines skipped under `defines`.

    Includes are not searched (no -I): the main file's own conditionals are what matter here,
    and lexing stays fast.
    """
    ci = cindex()
    name = str(path)
    args = ["-x", "c++", "-std=c++17", "-nostdinc", "-nostdinc++", "-Wno-everything", *[f"-D{d}" for d in defines]]
    opts = ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD | PARSE_KEEP_GOING
    tu = ci.TranslationUnit.from_source(name, args, unsaved_files=[(name, text)], options=opts)
    kinds = {
        ci.TokenKind.KEYWORD: "keyword",
        ci.TokenKind.IDENTIFIER: "identifier",
        ci.TokenKind.PUNCTUATION: "punctuation",
        ci.TokenKind.LITERAL: "literal",
        ci.TokenKind.COMMENT: "comment",
    }
    start = tu.get_location(name, 0)
    end = tu.get_location(name, len(text.encode()))
    extent = ci.SourceRange.from_locations(start, end)
    toks = tuple(
        Tok(t.spelling, kinds.get(t.kind, "other"), t.location.line, t.location.column, t.location.offset)
        for t in tu.get_tokens(extent=extent)
    )
    return Lexed(toks, tuple(_skipped_ranges(ci, tu, name)), tuple(text.splitlines()))


# Bracket depth: the one helper every token walker uses. `>>` closes two angle brackets (C++11).
ANGLES = {"<": 1, ">": -1, ">>": -2}
PARENS = {"(": 1, ")": -1}
BRACES = {"{": 1, "}": -1}
NESTING = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}  # statement structure (no angles)
ANY_BRACKET = {**NESTING, **ANGLES}


def depth_delta(spelling: str, brackets: dict[str, int] = ANGLES) -> int:
    """How much a token changes the bracket depth (0 for anything that is not one of BRACKETS)."""
    return brackets.get(spelling, 0)


def closing_index(toks: Sequence[Tok], open_idx: int, brackets: dict[str, int] = ANGLES,
                  end: int | None = None) -> int | None:
    """Index of the token that brings the depth opened at OPEN_IDX back to zero (or below), or None."""
    depth = 0
    for k in range(open_idx, len(toks) if end is None else end):
        depth += depth_delta(toks[k].spelling, brackets)
        if depth <= 0:
            return k
    return None


def split_arguments(toks: Sequence[Tok], open_idx: int,
                    brackets: dict[str, int] = PARENS) -> tuple[list[list[Tok]], int] | None:
    """The non-empty top-level comma-separated arguments of the bracket opened at OPEN_IDX, and the index
    of its closing token; None when it never closes."""
    args: list[list[Tok]] = [[]]
    depth = 0
    for i in range(open_idx, len(toks)):
        s = toks[i].spelling
        delta = depth_delta(s, brackets)
        depth += delta
        if delta > 0 and depth == 1:
            continue
        if delta < 0 and depth <= 0:
            return [a for a in args if a], i
        if s == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(toks[i])
    return None
