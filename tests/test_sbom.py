"""The licence report: sbom.cdx.json (CycloneDX 1.5), the summary in NOTICE and README, determinism."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.keepup_synth import CUTLASS_REMOTE, REMOTE, extract, git, tree_files
from vendor_slim.engine.diff import lock_license_summary
from vendor_slim.engine.sbom import Component, is_url, purl

pytest_plugins = ["tests.keepup_fixtures"]  # the session fixtures keepup_tree, keepup_fg_tree


@pytest.fixture(scope="module")
def tree(keepup_tree: tuple[Path, Path, Path]) -> tuple[Path, Path, Path]:
    return keepup_tree


def _sbom(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "sbom.cdx.json").read_text())
    return doc


def test_sbom_lists_the_upstream_components(tree: tuple[Path, Path, Path]) -> None:
    up, out, _ = tree
    doc = _sbom(out)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5" and doc["version"] == 1
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        doc["serialNumber"])
    assert "timestamp" not in doc["metadata"]
    assert doc["metadata"]["tools"]["components"][0]["name"] == "vendor-slim"
    tool = doc["metadata"]["component"]
    assert tool["name"] == "syn" and tool["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    comps = {c["name"]: c for c in doc["components"]}
    assert set(comps) == {"TensorRT-LLM", "CUTLASS"}
    trt, cut = comps["TensorRT-LLM"], comps["CUTLASS"]
    up_commit = git(up, "rev-parse", "HEAD")
    cut_commit = git(up / "3rdparty/cutlass", "rev-parse", "HEAD")
    assert trt["version"] == up_commit and cut["version"] == cut_commit
    assert trt["purl"] == f"pkg:github/nvidia/tensorrt-llm@{up_commit}"
    assert cut["purl"] == f"pkg:github/nvidia/cutlass@{cut_commit}"
    assert trt["externalReferences"] == [{"type": "vcs", "url": REMOTE}]
    assert cut["externalReferences"] == [{"type": "vcs", "url": CUTLASS_REMOTE}]
    assert trt["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert cut["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    refs = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
    assert refs["syn"] == ["cutlass", "trtllm"]


def test_sbom_is_listed_in_the_lock_and_agrees_with_it(tree: tuple[Path, Path, Path]) -> None:
    _, out, _ = tree
    lock = json.loads((out / "vendor.lock.json").read_text())
    entry = {f["path"]: f for f in lock["files"]}["sbom.cdx.json"]
    data = (out / "sbom.cdx.json").read_bytes()
    assert entry["role"] == "doc" and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["size"] == len(data) and entry["origin"] is None
    summary = lock_license_summary(lock["files"])
    props = {c["name"]: {p["name"]: p["value"] for p in c["properties"]} for c in _sbom(out)["components"]}
    assert props["TensorRT-LLM"]["vendor-slim:files"] == str(sum(summary["trtllm"].values()))
    assert props["CUTLASS"]["vendor-slim:files"] == str(sum(summary["cutlass"].values()))
    tool = {p["name"]: p["value"] for p in _sbom(out)["metadata"]["component"]["properties"]}
    assert tool["vendor-slim:files"] == str(sum(summary["vendor-slim"].values()))
    assert str(out) not in data.decode() and str(tree[0]) not in data.decode()  # no machine paths


def test_notice_and_readme_summarise_licences(tree: tuple[Path, Path, Path]) -> None:
    _, out, _ = tree
    lock = json.loads((out / "vendor.lock.json").read_text())
    summary = lock_license_summary(lock["files"])
    n_trt = sum(summary["trtllm"].values())
    n_tool = sum(summary["vendor-slim"].values())
    for name in ("NOTICE", "README.md"):
        text = (out / name).read_text()
        assert f"- TensorRT-LLM: {n_trt} files: Apache-2.0 {n_trt}" in text, name
        assert "- CUTLASS: 1 file: BSD-3-Clause 1" in text, name
        assert f"- written by vendor-slim: {n_tool} files: Apache-2.0 {n_tool}" in text, name
        assert "sbom.cdx.json" in text


def test_same_inputs_give_the_same_sbom(tree: tuple[Path, Path, Path], tmp_path: Path) -> None:
    up, out, cache = tree
    again = tmp_path / "again"
    r = extract(up, again, cache)
    assert r.code == 0, r.err
    assert tree_files(again) == tree_files(out)


def test_serial_follows_the_content(tree: tuple[Path, Path, Path], keepup_fg_tree: Path) -> None:
    assert _sbom(keepup_fg_tree)["serialNumber"] != _sbom(tree[1])["serialNumber"]


@pytest.mark.parametrize("remote,expect", [
    ("https://github.com/NVIDIA/TensorRT-LLM.git", "pkg:github/nvidia/tensorrt-llm@abc"),
    ("git@github.com:NVIDIA/cutlass.git", "pkg:github/nvidia/cutlass@abc"),
    ("https://gitlab.example.com/a/b.git",
     "pkg:generic/tensorrt-llm@abc?vcs_url=git%2Bhttps%3A%2F%2Fgitlab.example.com%2Fa%2Fb.git%40abc"),
    ("/work/mirror/repo", None),  # a machine path, not a URL
    ("file:///work/mirror/repo", None),
    (None, None),
])
def test_purl(remote: str | None, expect: str | None) -> None:
    c = Component("trtllm", "TensorRT-LLM", remote, "abc", False, None, "third_party/tensorrt_llm", {})
    assert purl(c) == expect
    assert is_url(remote) == (expect is not None)
