"""diff: kernels, files and licences another upstream vintage would change, computed without writing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import no_traceback, run_cli
from tests.keepup_synth import REMOTE, commit_all, extract, git, make_second_vintage, tree_files
from vendor_slim.engine.diff import diff_kernels, format_diff

pytest_plugins = ["tests.keepup_fixtures"]  # the session fixtures keepup_tree, keepup_fg_tree


@pytest.fixture(scope="module")
def trees(keepup_tree: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    up, out, cache = keepup_tree
    base = tmp_path_factory.mktemp("diff")
    # a copy of the tree: diff's tests check that nothing is written into it, and share nothing else
    mine = base / "out" / "syn"
    shutil.copytree(out, mine)
    return {"up": up, "up2": make_second_vintage(base / "up2"), "out": mine, "cache": cache, "base": base}


def _diff(trees: dict[str, Path], new: Path, *more: str | Path) -> tuple[int, Any, str]:
    r = run_cli("diff", trees["out"], "--trtllm", new, "--rules", new / "rules.toml", *more, cache=trees["cache"])
    assert no_traceback(r), r.err
    doc = r.json() if "--json" in more and r.code == 0 else None
    return r.code, doc if doc is not None else r.out, r.err


@pytest.fixture(scope="module")
def second(trees: dict[str, Path]) -> dict[str, Any]:
    before = tree_files(trees["out"])
    stamps = {p: p.stat().st_mtime_ns for p in trees["out"].rglob("*")}
    code, doc, err = _diff(trees, trees["up2"], "--json")
    assert code == 0, err
    # nothing written into DIR, nothing beside it
    assert tree_files(trees["out"]) == before
    assert {p: p.stat().st_mtime_ns for p in trees["out"].rglob("*")} == stamps
    assert sorted(p.name for p in trees["out"].parent.iterdir()) == ["syn"]
    assert isinstance(doc, dict)
    return doc


def _tiles(kernels: list[dict[str, Any]]) -> list[tuple[str, list[int]]]:
    return sorted((k["quant_op"], k["cta"]) for k in kernels)


def test_kernels_added_and_removed(second: dict[str, Any]) -> None:
    assert second["complete"] and second["file_diff_error"] is None
    k = second["kernels"]
    assert _tiles(k["added"]) == [("A", [32])]
    assert _tiles(k["removed"]) == [("B", [256])]
    assert k["unchanged"] == 4 and k["missing_for_runner"] == []
    assert set(k["added"][0]) == {"function", "act", "weight", "quant_op", "cta", "cluster", "mainloop",
                                  "epilogue_schedule"}


def test_files_added_removed_changed(second: dict[str, Any]) -> None:
    f = second["files"]
    assert [x["path"] for x in f["added"]] == ["third_party/tensorrt_llm/syn/extra.h"]
    assert [x["path"] for x in f["removed"]] == ["third_party/tensorrt_llm/syn/device_only.h"]
    changed = {x["path"] for x in f["changed"]}
    for p in ("third_party/tensorrt_llm/syn/runner.inl", "third_party/tensorrt_llm/syn/log.h",
              "third_party/tensorrt_llm/syn/launcher.inl", "third_party/tensorrt_llm/syn/types.h",
              "src/generated/syn_launchers_0.generated.cu", "KERNELS.md", "NOTICE", "sbom.cdx.json"):
        assert p in changed, p
    assert "third_party/tensorrt_llm/syn/runner_a.cu" not in changed  # same bytes
    assert all(x["old_sha256"] != x["new_sha256"] for x in f["changed"])
    assert f["unchanged"] > 0
    assert second["summary"] == {"kernels_added": 1, "kernels_removed": 1, "kernels_changed": 0,
                                 "files_added": 1, "files_removed": 1,
                                 "files_changed": len(f["changed"]), "licenses_changed": 1}


def test_licences_that_changed(second: dict[str, Any]) -> None:
    lic = second["licenses"]
    assert lic["changed"] == [{"path": "third_party/tensorrt_llm/syn/types.h", "old": "Apache-2.0", "new": "MIT"}]
    assert lic["added"] == ["MIT"] and lic["removed"] == []
    assert lic["summary"]["new"]["trtllm"]["MIT"] == 1
    assert [c["part"] for c in lic["counts_changed"]] == ["trtllm"]


def test_provenance_of_both_sides(trees: dict[str, Path], second: dict[str, Any]) -> None:
    up = second["upstream"]
    assert up["old"]["trtllm"]["commit"] == git(trees["up"], "rev-parse", "HEAD")
    assert up["new"]["trtllm"]["commit"] == git(trees["up2"], "rev-parse", "HEAD")
    assert up["new"]["trtllm"]["remote"] == REMOTE
    assert second["quant_ops"] == ["fg", "pc"] and not second["rules"]["changed"]


def test_text_report(trees: dict[str, Path]) -> None:
    code, out, err = _diff(trees, trees["up2"])
    assert code == 0, err
    assert "kernels: 1 added, 1 removed, 4 unchanged" in out
    assert "  + A half_t x int4_t CTA 32" in out and "  - B half_t x int4_t CTA 256" in out
    assert "  + third_party/tensorrt_llm/syn/extra.h" in out
    assert "  - third_party/tensorrt_llm/syn/device_only.h" in out
    assert "  ~ third_party/tensorrt_llm/syn/runner.inl" in out
    assert "third_party/tensorrt_llm/syn/types.h: Apache-2.0 -> MIT" in out


def test_same_upstream_gives_an_empty_diff(trees: dict[str, Path]) -> None:
    code, doc, err = _diff(trees, trees["up"], "--json")
    assert code == 0, err
    assert doc["summary"] == {"kernels_added": 0, "kernels_removed": 0, "kernels_changed": 0,
                              "files_added": 0, "files_removed": 0,
                              "files_changed": 0, "licenses_changed": 0}
    assert doc["kernels"]["unchanged"] == 5


def test_new_tree_that_cannot_be_extracted_falls_back_to_kernels(trees: dict[str, Path], tmp_path: Path) -> None:
    """The link closure's source includes a header the new vintage lacks: extract would stop (exit 2);
    diff still compares the kernels and says why the files were not compared."""
    up3 = tmp_path / "up3"
    shutil.copytree(trees["up2"], up3, symlinks=True)
    (up3 / "cpp/syn/log.cpp").write_text('#include "syn/log_config.h"\n' + (up3 / "cpp/syn/log.cpp").read_text())
    commit_all(up3, "broken")
    code, doc, err = _diff(trees, up3, "--json")
    assert code == 0, err
    assert not doc["complete"] and doc["files"] is None and doc["licenses"] is None
    assert doc["file_diff_error"]["exit_code"] == 2
    assert "syn/log_config.h" in doc["file_diff_error"]["message"]
    assert _tiles(doc["kernels"]["added"]) == [("A", [32])] and _tiles(doc["kernels"]["removed"]) == [("B", [256])]
    assert doc["summary"]["files_changed"] is None
    assert "only the kernels were compared" in err
    out = format_diff(doc)  # what the command prints without --json
    assert "files: not compared" in out and "syn/log_config.h" in out and "  + A half_t x int4_t CTA 32" in out


def test_runner_needing_an_ungenerated_launcher_is_reported(trees: dict[str, Path], tmp_path: Path) -> None:
    up4 = tmp_path / "up4"
    shutil.copytree(trees["up2"], up4, symlinks=True)
    inl = up4 / "cpp/syn/runner.inl"
    inl.write_text(inl.read_text().replace("if constexpr (Op == Q::A) {", "{"))  # B now needs Tile 32 too
    commit_all(up4, "B needs 32")
    code, doc, err = _diff(trees, up4, "--json")
    assert code == 0, err
    assert not doc["complete"] and doc["file_diff_error"]["exit_code"] == 1
    assert doc["kernels"]["missing_for_runner"] == ["half_t, int4_t, syn::Q::B, 32"]


@pytest.mark.parametrize("case", ["not-emitted", "unrecognised"])
def test_bad_input(trees: dict[str, Path], tmp_path: Path, case: str) -> None:
    if case == "not-emitted":
        r = run_cli("diff", tmp_path, "--trtllm", trees["up2"], cache=trees["cache"])
        assert r.code == 2 and "not a tree emitted by vendor-slim" in r.err
    else:
        (tmp_path / "x").mkdir()
        r = run_cli("diff", trees["out"], "--trtllm", tmp_path / "x", "--rules", trees["up2"] / "rules.toml",
                    cache=trees["cache"])
        assert r.code == 2 and "not a recognised tree" in r.err
    assert no_traceback(r)


@pytest.mark.parametrize("flags", [("--kernels-only",), ("--per-tu", "2")])
def test_the_shape_comes_from_the_lock(trees: dict[str, Path], tmp_path: Path, flags: tuple[str, ...]) -> None:
    """A kernels-only tree, or one grouped 2 kernels per TU, is diffed as one: same upstream, no change."""
    t = tmp_path / "t"
    assert extract(trees["up"], t, trees["cache"], *flags).code == 0
    r = run_cli("diff", t, "--trtllm", trees["up"], "--rules", trees["up"] / "rules.toml", "--json",
                cache=trees["cache"])
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["shape"] == ({"kernels_only": True, "per_tu": None, "max_kernels": None} if flags[0] == "--kernels-only"
                            else {"kernels_only": False, "per_tu": 2, "max_kernels": None})
    assert doc["complete"] and doc["summary"]["files_changed"] == 0
    assert doc["summary"]["files_added"] == 0 and doc["summary"]["files_removed"] == 0

def test_same_tile_with_another_schedule_is_paired() -> None:
    """Between vintages a schedule may be renamed (C2's ...CooperativeMixedInput is C1's ...Cooperative):
    both kernels stay in added/removed (the whole key differs), and `changed` pairs them."""
    base = {"function": "f", "act": "half", "weight": "u4", "quant_op": "FG", "cta": [64, 16, 64],
            "cluster": [1, 1, 1], "mainloop": "ns::PingpongMixedInput", "epilogue_schedule": "ns::Tma", "tu": "a"}
    other = {**base, "cta": [128, 16, 64]}
    gone = {**base, "cta": [256, 16, 64]}
    k = diff_kernels([base, other, gone], [{**base, "mainloop": "ns::Pingpong", "tu": "b"}, other])
    assert len(k["added"]) == 1 and len(k["removed"]) == 2 and k["unchanged"] == 1
    assert k["changed"] == [{"old": {f: base[f] for f in k["changed"][0]["old"]},
                             "new": {**{f: base[f] for f in k["changed"][0]["old"]}, "mainloop": "ns::Pingpong"},
                             "differs": ["mainloop"]}]


def test_exit_code(trees: dict[str, Path]) -> None:
    """--exit-code: 1 when the new upstream changes anything, 0 for the tree's own upstream."""
    code, out, err = _diff(trees, trees["up2"], "--exit-code")
    assert code == 1 and "kernels:" in out, err
    code, out, err = _diff(trees, trees["up"], "--exit-code")
    assert code == 0, out + err
    assert "unchanged" in out


def test_remote_spelling_is_no_upstream_change() -> None:
    from vendor_slim.engine.diff import remote_identity, upstream_changed

    spellings = ["https://github.com/NVIDIA/cutlass.git", "https://github.com/NVIDIA/cutlass",
                 "git@github.com:NVIDIA/cutlass.git", "ssh://git@github.com/NVIDIA/cutlass/"]
    assert len({remote_identity(r) for r in spellings}) == 1
    old = {"remote": spellings[0], "commit": "abc", "dirty": False}
    assert not upstream_changed(old, {**old, "remote": spellings[2]})
    assert not upstream_changed(old, {**old, "remote": None})  # a local checkout records no remote
    assert upstream_changed(old, {**old, "commit": "def"})
    assert upstream_changed(old, {**old, "remote": "https://github.com/someone/cutlass"})
    doc = {"dir": "/abs/tree", "new_tree": "/abs/new", "upstream": {
        "old": {"trtllm": old, "cutlass": old}, "new": {"trtllm": old, "cutlass": {**old, "remote": spellings[3]}},
        "changed": {"trtllm": False, "cutlass": False}},
        "rules": {"changed": False, "old": {}, "new": {"sha256": "0" * 64}},
        "shape": {"kernels_only": False, "per_tu": None}, "quant_ops": ["fg"], "tool": {"old": "x", "new": "x"},
        "kernels": {"added": [], "removed": [], "changed": [], "unchanged": 1}, "files": None,
        "file_diff_error": {"exit_code": 2, "message": "m"}, "licenses": None}
    text = format_diff(doc, "tree", "new")
    assert "CUTLASS: unchanged" in text and "/abs/" not in text
