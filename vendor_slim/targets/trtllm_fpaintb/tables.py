"""The upstream identifiers the API names, read from the tree's own declarations (libclang).

The API template names no enumerator of one vintage: tile, cluster and schedule enumerators, their
names and the shapes their names spell are generated into a header of the emitted tree from the
tree's declarations, and every name the template does spell (the rules' `tables.requires`, the
compiled quant ops' enumerators, the GEMV kernel type) must be declared by the tree, else the run
stops with the file and the name looked for, before any code is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters.libclang.decls import Decls, EnumDecl, declarations
from vendor_slim.adapters.libclang.sema import cuda_host_args
from vendor_slim.errors import BadInput
from vendor_slim.models import CompileSpec
from vendor_slim.targets.trtllm_fpaintb.rulefile import AccessorRule, AlternativeRule, Rules, TablesRule

_DIMS = re.compile(r"(\d+)x(\d+)x(\d+)(B?)")


@dataclass(frozen=True)
class Shape:
    """What an enumerator's name spells: CtaShape128x16x128B, ClusterShape_2x1x1,
    CtaShape128x128x64_WarpShape64x64x64."""

    m: int
    n: int
    k: int
    k_bytes: bool  # the K extent is in bytes (the `B` suffix of the SM90 tile names)
    warp: tuple[int, int, int] = (0, 0, 0)


def parse_shape(name: str) -> Shape | None:
    """The extents an enumerator's name spells, or None (Undefined, ChooseWithHeuristic, AUTO)."""
    dims = _DIMS.findall(name)
    if not dims or len(dims) > 2:
        return None
    (m, n, k, b), *rest = dims
    warp = tuple(int(x) for x in rest[0][:3]) if rest else (0, 0, 0)
    return Shape(int(m), int(n), int(k), b == "B", (warp[0], warp[1], warp[2]))


@dataclass(frozen=True)
class UpstreamTables:
    header: str  # path inside the emitted tree
    text: str
    enums: tuple[EnumDecl, ...]


def _resolve(include: str, dirs: Sequence[Path]) -> Path | None:
    return next((d / include for d in dirs if (d / include).is_file()), None)


def required_names(rules: Rules, quant_ops: Sequence[str], gemv: bool) -> list[str]:
    """Every qualified name the API template spells, besides the tables' enums."""
    t = rules.tables
    assert t is not None
    names = [*t.requires, *(rules.quant_ops[q].enum for q in quant_ops)]
    if gemv and rules.gemv is not None:
        ns = rules.gemv.function.rsplit("::", 1)[0]
        names.append(f"{ns}::{rules.gemv.kernel_type}")
    return names


def read_tables(rules: Rules, quant_ops: Sequence[str], spec: CompileSpec, code_root: Path, gemv: bool) -> (
    UpstreamTables | None
):
    """The generated tables header, from one parse of the rules' includes; None without [tables]."""
    t = rules.tables
    if t is None or rules.emit is None:
        return None
    includes = [*t.includes]
    if gemv and rules.gemv is not None:
        includes.append(rules.gemv.launcher_header)
    dirs = [*spec.include_dirs]
    for inc in includes:
        if _resolve(inc, dirs) is None:
            raise BadInput(f"the API needs the declarations of {inc}, which is on none of the tree's include "
                           f"folders ({', '.join(str(d) for d in dirs[:4])}, ...)")
    enum_names = [f"{t.namespace}::{e}" for e in (*t.shape_enums, *t.name_enums)]
    optional = [n for a in t.accessors for alt in a.alternatives for n in alt.requires]
    names = [*enum_names, *required_names(rules, quant_ops, gemv)]
    text = "".join(f'#include "{inc}"\n' for inc in includes)
    args = [*cuda_host_args(spec.std, spec.cuda_arch), *spec.preprocessor_args("cu", None)]
    decls = declarations(code_root / "_vendor_slim_tables.cu", text, args, [*names, *optional])
    _check(decls, names, enum_names, includes, dirs)
    chosen = [(a, _choose(a, decls, includes, dirs)) for a in t.accessors]
    enums = tuple(decls.enums[n] for n in enum_names)
    header = render_tables(t, rules.emit.api_namespace or rules.emit.library, enums, includes, dirs, chosen)
    return UpstreamTables(t.header, header, enums)


def _check(decls: Decls, names: Sequence[str], enums: Sequence[str], includes: Sequence[str],
           dirs: Sequence[Path]) -> None:
    for name in names:
        if name in decls.found and (name not in enums or name in decls.enums):
            continue
        parent = name.rsplit("::", 1)[0]
        where = decls.found.get(parent)
        if where is None:
            where = ", ".join(f"{inc} ({_resolve(inc, dirs)})" for inc in includes)
        why = f"; the parse reported: {decls.errors[0]}" if decls.errors else ""
        what = "a definition of" if name in decls.found else ""
        raise BadInput(f"the API needs {what + ' ' if what else ''}{name}, which the tree does not declare "
                       f"(looked in {where}){why}")


def _choose(a: AccessorRule, decls: Decls, includes: Sequence[str], dirs: Sequence[Path]) -> AlternativeRule:
    for alt in a.alternatives:
        if all(n in decls.found for n in alt.requires):
            return alt
    wanted = " or ".join(" and ".join(alt.requires) for alt in a.alternatives)
    parents = {n.rsplit("::", 1)[0] for alt in a.alternatives for n in alt.requires}
    where = ", ".join(sorted({decls.found[p] for p in parents if p in decls.found})) or ", ".join(
        f"{inc} ({_resolve(inc, dirs)})" for inc in includes)
    raise BadInput(f"the API needs {a.name} (from {wanted}), which the tree does not declare (looked in {where})")


def _cxx_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_tables(t: TablesRule, namespace: str, enums: Sequence[EnumDecl], includes: Sequence[str],
                  dirs: Sequence[Path], accessors: Sequence[tuple[AccessorRule, AlternativeRule]] = ()) -> str:
    """The header: per enum, every enumerator with its name, and the shapes the names spell."""
    files = sorted({e.file for e in enums})
    own = [inc for inc in includes if str(_resolve(inc, dirs)) in files] or list(includes)

    def shown(f: str) -> str:
        p = Path(f)
        for d in dirs:
            if d in p.parents:
                return p.relative_to(d).as_posix()
        return p.name

    lines = ["// Generated by vendor-slim from the declarations of the tree it was extracted from (libclang).",
             "// The API names upstream enumerators only through these tables, so that it compiles against",
             "// any vintage of them. Do not edit.",
             "#pragma once", "", *(f'#include "{inc}"' for inc in own), "", "#include <array>", "",
             f"namespace {namespace}", "{", "namespace upstream", "{", "",
             f"namespace decl = {t.namespace};", "",
             "template <typename E>", "struct Named", "{", "    E id;", "    char const* name;", "};", "",
             "// The extents an enumerator's name spells: MxNxK (K in bytes where k_bytes), and the warp",
             "// shape of the pre-Hopper tile names (0 where the name has none).",
             "template <typename E>", "struct Shape", "{", "    E id;", "    int m, n, k;", "    bool k_bytes;",
             "    int warp_m, warp_n, warp_k;", "    char const* name;", "};"]
    for e in enums:
        short = e.name.rsplit("::", 1)[-1]
        shapes = [(n, s) for n, _ in e.enumerators if (s := parse_shape(n)) is not None]
        lines += ["", f"// {e.name} ({shown(e.file)}): {len(e.enumerators)} enumerators, {len(shapes)} shapes",
                  f"inline constexpr std::array<Named<decl::{short}>, {len(e.enumerators)}> k{short}Names{{{{"]
        lines += [f"    {{decl::{short}::{n}, {_cxx_string(n)}}}," for n, _ in e.enumerators]
        lines.append("}};")
        if short in t.shape_enums:
            lines.append(f"inline constexpr std::array<Shape<decl::{short}>, {len(shapes)}> k{short}Shapes{{{{")
            lines += [f"    {{decl::{short}::{n}, {s.m}, {s.n}, {s.k}, {str(s.k_bytes).lower()}, "
                      f"{s.warp[0]}, {s.warp[1]}, {s.warp[2]}, {_cxx_string(n)}}}," for n, s in shapes]
            lines.append("}};")
    for a, alt in accessors:
        lines += ["", f"// {a.name}: this tree declares {', '.join(alt.requires)}", "template <typename C>",
                  f"inline {a.type} {a.name}(C const& c)", "{", f"    return {alt.expr};", "}"]
    lines += ["", "} // namespace upstream", f"}} // namespace {namespace}", ""]
    return "\n".join(lines)
