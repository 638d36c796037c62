"""Declared names of a parse: which of the asked-for qualified names exist, and the enumerators of enums.

Only the scopes on the way to an asked-for name are walked (a namespace, class or enum whose
qualified name prefixes one), so reading a few names out of CUTLASS-sized headers stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.adapters.libclang import cindex
from vendor_slim.adapters.libclang.tokens import PARSE_KEEP_GOING


@dataclass(frozen=True)
class EnumDecl:
    name: str  # qualified
    file: str  # where it is declared
    enumerators: tuple[tuple[str, int], ...]  # in declaration order, with their values


@dataclass(frozen=True)
class Decls:
    found: dict[str, str]  # asked-for qualified name -> file declaring it
    enums: dict[str, EnumDecl]  # asked-for enums (qualified name) that the parse declares
    errors: tuple[str, ...]  # the parse's errors ("file:line: message"), first ones


def declarations(path: Path, text: str, args: Sequence[str], names: Sequence[str]) -> Decls:
    """Parse TEXT (as PATH) and look up NAMES ('a::b::C', 'a::b::E::X' for an enumerator, a field)."""
    ci = cindex()
    opts = ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES | PARSE_KEEP_GOING
    tu = ci.TranslationUnit.from_source(str(path), list(args), unsaved_files=[(str(path), text)], options=opts)
    wanted = set(names)
    prefixes = {"::".join(n.split("::")[:i]) for n in wanted for i in range(1, n.count("::") + 1)}
    found: dict[str, str] = {}
    enums: dict[str, EnumDecl] = {}
    scopes = {"NAMESPACE", "STRUCT_DECL", "CLASS_DECL", "CLASS_TEMPLATE", "ENUM_DECL", "UNEXPOSED_DECL",
              "LINKAGE_SPEC"}

    def visit(cursor: Any, qual: str) -> None:
        for ch in cursor.get_children():
            if not ch.spelling:
                if ch.kind.name in ("UNEXPOSED_DECL", "LINKAGE_SPEC"):
                    visit(ch, qual)
                continue
            q = f"{qual}::{ch.spelling}" if qual else ch.spelling
            if q in wanted:
                loc = ch.location.file
                where = str(loc.name) if loc is not None else str(path)
                found.setdefault(q, where)
                if ch.kind.name == "ENUM_DECL" and ch.is_definition():  # not a forward declaration
                    members = tuple((e.spelling, int(e.enum_value)) for e in ch.get_children()
                                    if e.kind.name == "ENUM_CONSTANT_DECL")
                    enums[q] = EnumDecl(q, where, members)
                    found[q] = where
            if q in prefixes and ch.kind.name in scopes:
                visit(ch, q)

    visit(tu.cursor, "")
    errors = tuple(
        f"{d.location.file.name if d.location.file else path}:{d.location.line}: {d.spelling}"
        for d in tu.diagnostics if d.severity >= 3
    )[:5]
    return Decls(found, enums, errors)
