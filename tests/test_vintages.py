"""Trees of other vintages: the upstream names the API uses come from the tree's own declarations,
and extract compiles every file it writes before putting the tree in place."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli
from tests.vintage_synth import HAND_LIST_API_CU, OLD_CLUSTERS, make_vintage_tree
from vendor_slim.adapters import nvcc
from vendor_slim.targets.trtllm_fpaintb.tables import Shape, parse_shape

# a later vintage: the 256-wide tile and the 8-wide clusters gone, a 128x8 tile and a 4x4 cluster added
NEW_TILES = ("Undefined", "ChooseWithHeuristic", "CtaShape64x16x128B", "CtaShape128x8x128B", "CtaShape128x128x256B")
NEW_CLUSTERS = ("Undefined", "ClusterShape_1x1x1", "ClusterShape_4x4x1")

needs_nvcc = pytest.mark.skipif(shutil.which("nvcc") is None and not Path("/usr/local/cuda/bin/nvcc").is_file(),
                                reason="nvcc is not installed (the compile check needs it)")


def _extract(tree: Path, out: Path, cache: Path, *extra: str) -> object:
    return run_cli("extract", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "all", "--out", out,
                   *extra, cache=cache)


def test_enumerator_names_parse_into_shapes() -> None:
    assert parse_shape("CtaShape128x16x128B") == Shape(128, 16, 128, True)
    assert parse_shape("CtaShape64x256x512B") == Shape(64, 256, 512, True)
    assert parse_shape("ClusterShape_2x1x1") == Shape(2, 1, 1, False)
    assert parse_shape("CtaShape128x128x8_WarpShape64x64x8") == Shape(128, 128, 8, False, (64, 64, 8))
    for name in ("Undefined", "ChooseWithHeuristic", "AUTO", "NO_SPLIT_K"):
        assert parse_shape(name) is None


@needs_nvcc
def test_a_tree_lacking_what_the_old_template_named_extracts_and_compiles(tmp_path: Path) -> None:
    tree = make_vintage_tree(tmp_path / "up", tiles=NEW_TILES, clusters=NEW_CLUSTERS, scheds=("AUTO", "PINGPONG"))
    out = tmp_path / "out"
    r = _extract(tree, out, tmp_path / "cache")
    assert r.code == 0, r.err  # type: ignore[attr-defined]
    tables = (out / "include/synapi/upstream_tables.h").read_text()
    # exactly this tree's enumerators, with the shapes their names spell
    assert "{decl::TileConfig::CtaShape128x8x128B, 128, 8, 128, true, 0, 0, 0, \"CtaShape128x8x128B\"}" in tables
    assert "{decl::TileConfig::CtaShape128x128x256B, 128, 128, 256, true," in tables
    assert "{decl::ClusterShape::ClusterShape_4x4x1, 4, 4, 1, false," in tables
    assert "{decl::Schedule::PINGPONG, \"PINGPONG\"}" in tables
    assert "CtaShape256x128x128B" not in tables and "ClusterShape_8x1x1" not in tables
    lock = json.loads((out / "vendor.lock.json").read_text())
    by_path = {f["path"]: f for f in lock["files"]}
    assert by_path["include/synapi/upstream_tables.h"]["role"] == "generated"
    assert "third_party/tensorrt_llm/syn/configs.h" in by_path  # the declarations travel with the tree


@needs_nvcc
def test_the_hand_list_template_fails_the_compile_check_and_leaves_the_old_tree(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    old = make_vintage_tree(tmp_path / "old")  # the vintage the hand list names: it compiles
    assert _extract(old, out, cache).code == 0  # type: ignore[attr-defined]
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    new = make_vintage_tree(tmp_path / "new", tiles=NEW_TILES, clusters=NEW_CLUSTERS, api=HAND_LIST_API_CU)
    r = _extract(new, out, cache, "--force")
    assert r.code == 1 and no_traceback(r), r.err  # type: ignore[attr-defined]
    assert "does not compile: src/synapi.cu" in r.err  # type: ignore[attr-defined]
    assert 'has no member "CtaShape256x128x128B"' in r.err  # type: ignore[attr-defined]
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["cache", "new", "old", "out"]  # no temporary left
    # --no-compile-check skips it: the broken tree is written (what verify would then catch)
    r = _extract(new, out, cache, "--force", "--no-compile-check")
    assert r.code == 0, r.err  # type: ignore[attr-defined]


def test_a_tree_lacking_a_declaration_the_api_needs_is_bad_input(tmp_path: Path) -> None:
    tree = make_vintage_tree(tmp_path / "up", clusters=None)
    r = _extract(tree, tmp_path / "out", tmp_path / "cache")
    assert r.code == 2 and no_traceback(r), r.err  # type: ignore[attr-defined]
    assert "syn::cfg::ClusterShape" in r.err and "syn/configs.h" in r.err  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()

    tree = make_vintage_tree(tmp_path / "up2", clusters=OLD_CLUSTERS, scheds=("PINGPONG",))
    r = _extract(tree, tmp_path / "out", tmp_path / "cache")
    assert r.code == 2 and no_traceback(r), r.err  # type: ignore[attr-defined]
    assert "syn::cfg::Schedule::AUTO" in r.err and "syn/configs.h" in r.err  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


@needs_nvcc
def test_c1_late_2025_declarations_give_tables_that_compile(c1_root: Path, tmp_path: Path) -> None:
    """C1 carries TensorRT-LLM's late-2025 gemm_configs.h (values computed from the shapes, an Undefined
    cluster, more schedules): the tables generated from it compile against it."""
    from dataclasses import replace

    from vendor_slim.targets.profile import detect
    from vendor_slim.targets.trtllm_fpaintb.rulefile import load_profiles, load_rules
    from vendor_slim.targets.trtllm_fpaintb.tables import read_tables
    from vendor_slim.targets.trtllm_fpaintb.units import compile_spec

    src, _ = detect(c1_root, load_profiles())
    rules = load_rules()
    assert rules.tables is not None
    gemm_configs = [n for n in rules.tables.requires if "cutlass_extensions" in n]
    rules = replace(rules, tables=replace(rules.tables, includes=("cutlass_extensions/gemm_configs.h",),
                                          requires=tuple(gemm_configs)))
    spec = compile_spec(src, rules)
    t = read_tables(rules, (), spec, src.code_root, gemv=False)
    assert t is not None
    sm90 = next(e for e in t.enums if e.name.endswith("::CutlassTileConfigSM90"))
    assert ("CtaShape128x8x128B", 128008128) in sm90.enumerators  # the value is the shape the name spells
    # this vintage has sm_version and tile_config_sm80 where C2 has is_sm90 and tile_config
    assert "return c.sm_version == 90;" in t.text and "return c.tile_config_sm80;" in t.text
    header = tmp_path / "include" / t.header.removeprefix("include/")
    header.parent.mkdir(parents=True)
    header.write_text(t.text)
    probe = tmp_path / "probe.cu"
    probe.write_text(f'#include "{t.header.removeprefix("include/")}"\n'
                     "static_assert(w4a16_sm90::upstream::kCutlassTileConfigSM90Shapes.size() == 32);\n"
                     "static_assert(w4a16_sm90::upstream::kClusterShapeShapes.size() == 11);\n"
                     "bool f(tensorrt_llm::cutlass_extensions::CutlassGemmConfig const& c) {\n"
                     "  return w4a16_sm90::upstream::is_sm90(c) && w4a16_sm90::upstream::tile_config_sm80(c) == "
                     "tensorrt_llm::cutlass_extensions::CutlassTileConfig::Undefined; }\n")
    cmd = [nvcc.nvcc_path(), "-c", "-x", "cu", "-std=c++17", "-gencode=arch=compute_90a,code=sm_90a",
           f"-I{tmp_path / 'include'}", *(f"-I{d}" for d in src.include_dirs), "-Xcompiler", "-fsyntax-only",
           str(probe), "-o", str(tmp_path / "probe.o")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_cutlass_checked_out_off_its_pin_warns_and_the_lock_records_both(tmp_path: Path) -> None:
    from tests.synth import make_extract_tree

    tree = make_extract_tree(tmp_path / "up")
    cut = tree / "3rdparty/cutlass"
    _git(cut, "init", "-q")
    _git(cut, "add", "-A")
    _git(cut, "commit", "-qm", "one")
    first = _git(cut, "rev-parse", "HEAD")
    (cut / "include/cutlass/version.h").write_text("#pragma once\n")
    _git(cut, "add", "-A")
    _git(cut, "commit", "-qm", "two")
    second = _git(cut, "rev-parse", "HEAD")
    _git(tree, "init", "-q")
    _git(tree, "add", "-A", ":!3rdparty/cutlass")
    _git(tree, "update-index", "--add", "--cacheinfo", f"160000,{first},3rdparty/cutlass")
    _git(tree, "commit", "-qm", "superproject")
    cache = tmp_path / "cache"

    out = tmp_path / "off"
    r = _extract(tree, out, cache, "--no-compile-check")
    assert r.code == 0, r.err  # type: ignore[attr-defined]
    assert "warning:" in r.err and first in r.err and second in r.err  # type: ignore[attr-defined]
    lock = json.loads((out / "vendor.lock.json").read_text())
    assert lock["upstream"]["cutlass"]["pinned"] == first
    assert lock["upstream"]["cutlass"]["commit"] == second
    assert f"pins {first}" in (out / "NOTICE").read_text()

    _git(cut, "checkout", "-q", first)
    out = tmp_path / "on"
    r = _extract(tree, out, cache, "--no-compile-check")
    assert r.code == 0 and "warning" not in r.err, r.err  # type: ignore[attr-defined]
    lock = json.loads((out / "vendor.lock.json").read_text())
    assert lock["upstream"]["cutlass"]["pinned"] == lock["upstream"]["cutlass"]["commit"] == first


def test_one_count_of_the_tree_in_the_summary_readme_notice_and_publish(tmp_path: Path) -> None:
    from tests.synth import make_extract_tree
    from vendor_slim.engine.publish import message
    from vendor_slim.models import Lock

    tree = make_extract_tree(tmp_path / "up")
    out = tmp_path / "out"
    r = _extract(tree, out, tmp_path / "cache", "--no-compile-check")
    assert r.code == 0, r.err  # type: ignore[attr-defined]
    lock = json.loads((out / "vendor.lock.json").read_text())
    files = lock["files"]
    up = {n: sum(1 for f in files if f["origin"] and f["role"] != "license" and f["path"].startswith(d))
          for n, d in (("TensorRT-LLM", "third_party/tensorrt_llm/"), ("CUTLASS", "third_party/cutlass/"))}
    lic = sum(1 for f in files if f["role"] == "license")
    tool = sum(1 for f in files if not f["origin"]) + 1  # the lock lists every file but itself
    total = sum(1 for p in out.rglob("*") if p.is_file())
    assert sum(up.values()) + lic + tool == total
    line = (f"{total} files: {sum(up.values())} upstream files ({up['TensorRT-LLM']} TensorRT-LLM, "
            f"{up['CUTLASS']} CUTLASS), {lic} licence files, {tool} written by vendor-slim")
    assert line in r.out  # type: ignore[attr-defined]
    assert line in (out / "README.md").read_text() and line in (out / "NOTICE").read_text()
    assert line in message(Lock.from_json(lock), None)
    closure = run_cli("closure", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "all",
                      cache=tmp_path / "cache")
    assert closure.code == 0, closure.err
    assert (f"union: {sum(up.values())} upstream files ({up['TensorRT-LLM']} TensorRT-LLM, {up['CUTLASS']} "
            "CUTLASS)") in " ".join(closure.out.split())
