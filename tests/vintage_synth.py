"""Synthetic trees of different vintages: the same tiny target whose config enums lack or add
members (written by these tests; no upstream code), with an API template that names upstream
enumerators only through the generated tables header, the way the real W4A16 template does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.synth import make_extract_tree

# the enumerators of the vintage the hand-list template was written against
OLD_TILES = ("Undefined", "ChooseWithHeuristic", "CtaShape64x16x128B", "CtaShape128x128x128B", "CtaShape256x128x128B")
OLD_CLUSTERS = ("ClusterShape_1x1x1", "ClusterShape_2x1x1", "ClusterShape_1x8x1", "ClusterShape_8x1x1")


def configs_h(tiles: Sequence[str], clusters: Sequence[str] | None, scheds: Sequence[str]) -> str:
    cluster = ("enum class ClusterShape { " + ", ".join(clusters) + " };\n") if clusters is not None else ""
    return (
        "#pragma once\nnamespace syn { namespace cfg {\n"
        f"enum class TileConfig {{ {', '.join(tiles)} }};\n{cluster}"
        f"enum class Schedule {{ {', '.join(scheds)} }};\n"
        "struct Config { TileConfig tile; " + ("ClusterShape cluster; " if clusters is not None else "")
        + "Schedule schedule; };\n} }\n"
    )


# The API over the tables: tile lookup by id, the name of a schedule, a default config by extents.
TABLES_API_CU = """\
#include "synapi/synapi.h"
#include "synapi/config.h"
#include "synapi/upstream_tables.h"
#include "syn/runner.h"
#include <string>
namespace synapi {
namespace {
std::string describe(syn::cfg::Config const& c) {
  for (auto const& s : upstream::kTileConfigShapes)
    if (s.id == c.tile) {
      std::string sched = c.schedule == syn::cfg::Schedule::AUTO ? "auto" : "?";
      for (auto const& n : upstream::kScheduleNames) if (n.id == c.schedule) sched = n.name;
      return std::to_string(s.m) + "x" + std::to_string(s.n) + " " + sched + " [" + s.name + "]";
    }
  return "?";
}
}
int run(int m) {
#if SYN_HAS_A
  syn::Runner<half_t, int4_t, syn::Q::A>().run(nullptr, nullptr, m);
#endif
#if SYN_HAS_B
  syn::Runner<half_t, int4_t, syn::Q::B>().run(nullptr, nullptr, m);
#endif
  return static_cast<int>(describe(syn::cfg::Config{}).size()) + m;
}
}
"""

# What the template looked like before: a hand list of one vintage's enumerators.
HAND_LIST_API_CU = TABLES_API_CU.replace(
    "namespace synapi {\nnamespace {\n",
    "namespace synapi {\nnamespace {\n"
    "int tile_m(syn::cfg::TileConfig t) {\n  using T = syn::cfg::TileConfig;\n  switch (t) {\n"
    "  case T::CtaShape64x16x128B: return 64;\n  case T::CtaShape256x128x128B: return 256;\n"
    "  default: return 0;\n  }\n}\n",
)

TABLES_RULES = """
[tables]
header = "include/synapi/upstream_tables.h"
includes = ["syn/configs.h", "syn/types.h"]
namespace = "syn::cfg"
shape_enums = ["TileConfig", "ClusterShape"]
name_enums = ["Schedule"]
requires = ["syn::cfg::Schedule::AUTO", "syn::cfg::Config::tile"]
"""


def make_vintage_tree(root: Path, *, tiles: Sequence[str] = OLD_TILES,
                      clusters: Sequence[str] | None = OLD_CLUSTERS,
                      scheds: Sequence[str] = ("AUTO",), api: str = TABLES_API_CU) -> Path:
    """make_extract_tree with config enums of one vintage and an API over the generated tables."""
    make_extract_tree(root)
    (root / "cpp/syn/configs.h").write_text(configs_h(tiles, clusters, scheds))
    (root / "templates/src/synapi.cu").write_text(api)
    rules = root / "rules.toml"
    rules.write_text(rules.read_text() + TABLES_RULES)
    return root
