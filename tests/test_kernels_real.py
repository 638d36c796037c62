"""`vendor-slim kernels` on the real trees: C1 (always, downloaded) and C2 (when VENDOR_SLIM_TRTLLM is set)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import run_cli

FP16_INT4 = ("half", "cutlass::uint4b_t")


def _doc(tree: Path, *ops: str) -> dict:
    args: list[str | Path] = ["kernels", "--trtllm", tree, "--json"]
    for op in ops:
        args += ["--quant-op", op]
    r = run_cli(*args)
    assert r.code == 0, r.err
    return r.json()


@pytest.mark.c1
def test_c1_counts_and_selection(c1_root: Path) -> None:
    doc = _doc(c1_root, "fg")
    assert doc["source"]["layout"] == "flashinfer"
    assert doc["generator"]["files"] == 48
    insts = doc["instantiations"]
    assert len(insts) == 378
    assert sum((i["act"], i["weight"]) == FP16_INT4 for i in insts) == 63
    sel = [i for i in insts if i["selected"]]
    assert len(sel) == 21
    assert all(i["needed_by_runner"] for i in sel)
    assert doc["summary"] == {"total": 378, "selected": 21, "needed_by_runner": 21, "missing_for_runner": 0,
                              "selected_not_needed": 0, "needed_not_selected": 0}
    assert {i["quant_op"] for i in sel} == {"FINEGRAINED_SCALE_ONLY"}


@pytest.mark.c1
def test_c1_all_and_the_manual_grep(c1_root: Path) -> None:
    doc = _doc(c1_root, "all")
    insts = doc["instantiations"]
    sel = [i for i in insts if i["selected"]]
    assert len(sel) == 63 and all(i["needed_by_runner"] for i in sel)
    assert Counter(i["quant_op"] for i in sel) == Counter(
        {"PER_COLUMN_SCALE_ONLY": 21, "FINEGRAINED_SCALE_ONLY": 21, "FINEGRAINED_SCALE_AND_ZEROS": 21})
    # The manual method: keep whole files without fp8/bf16 (grep -v "__nv_fp8\|__nv_bfloat16").
    by_file: dict[str, list[dict]] = {}
    for i in insts:
        by_file.setdefault(i["file"], []).append(i)
    kept = {f: xs for f, xs in by_file.items() if not any(x["act"] in ("__nv_fp8_e4m3", "__nv_bfloat16")
                                                       or x["scale_zero"] == "__nv_bfloat16" for x in xs)}
    kept_insts = [x for xs in kept.values() for x in xs]
    assert len(kept) == 12 and len(kept_insts) == 96
    int8 = [x for x in kept_insts if x["weight"] == "uint8_t"]
    assert len(int8) == 56
    assert not any(x["selected"] for x in int8)  # none of the INT8 kernels the grep keeps is selected
    lost = [x for x in sel if x["file"] not in kept]
    assert len(lost) == 23  # needed W4A16 kernels the grep loses


@pytest.mark.c2
def test_c2_counts(c2_root: Path) -> None:
    doc = _doc(c2_root, "fg")
    assert doc["source"]["layout"] == "trtllm-2024"
    assert doc["generator"]["files"] == 2
    insts = doc["instantiations"]
    assert len(insts) == 315
    assert sum((i["act"], i["weight"]) == FP16_INT4 for i in insts) == 63
    assert doc["summary"]["selected"] == 21
    assert doc["summary"]["needed_by_runner"] == 21
    assert doc["summary"]["missing_for_runner"] == 0
    assert all(i["needed_by_runner"] for i in insts if i["selected"])
