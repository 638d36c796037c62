"""GEMV dispatcher selection: the arch branch, the EXEC macro's body and the dispatchers' macro arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from vendor_slim.errors import BadInput
from vendor_slim.targets.trtllm_fpaintb.gemv import select_gemv
from vendor_slim.targets.trtllm_fpaintb.rulefile import GemvRule

LAUNCHER_H = """\
#pragma once
namespace ns {
template <bool G, typename D> void pick(int& p);
inline void launch(int arch, int& p) {
#define RUN(KT, A, W, L, I) \\
    if (p == int(KT)) { pick<traits<KT>::g, Details<A, W, L, I, 64>>(p); return; }
    if (arch >= 70 && arch < 80) {
        RUN(Kind::Fp16Int4G, FpA, I4W, Interleaved, true);
    } else if (arch >= 80 && arch < 90) {
        RUN(Kind::Fp16Int4G, FpA, I4W, Interleaved, true);
        RUN(Kind::Bf16Int4G, BfA, I4W, Interleaved, true);
    } else if (arch >= 90) {
        RUN(Kind::Bf16Int4G, BfA, I4W, Plain, false);
        RUN(Kind::Fp16Int4G, FpA, I4W, Plain, false);
    }
#undef RUN
}
}
"""

DISPATCH_H = """\
#pragma once
#define CASE_M(m, a, b) if (p == m) { return; }
inline void d(int p) {
#if 0
  CASE_M(9, 1, 1);
#endif
  CASE_M(1, 1, 8); CASE_M(2, 2, 8); CASE_M(3, 3, 8);
}
#define MAKE(KT, A, W, L, I, KTile) template void pick<traits<KT>::g, Details<A, W, L, I, KTile>>(int&);
"""

def _dispatcher(args: str) -> str:
    return f'#include "g/dispatch.h"\nnamespace ns {{\nMAKE({args})\n}}\n'


FILES = {
    "g/d_fp16_plain.cu": _dispatcher("Kind::Fp16Int4G, FpA, I4W, Plain, false, 64"),
    "g/d_fp16_inter.cu": _dispatcher("Kind::Fp16Int4G, FpA, I4W, Interleaved, true, 64"),
    "g/d_bf16_plain.cu": _dispatcher("Kind::Bf16Int4G, BfA, I4W, Plain, false, 64"),
    "g/d_fp16_plain_k128.cu": _dispatcher("Kind::Fp16Int4G, FpA, I4W, Plain, false, 128"),
}

RULE = GemvRule(dispatchers="g/d_*.cu", instantiate_macro="MAKE", function="ns::pick", launcher_header="g/launcher.h",
                launcher_function="launch", exec_macro="RUN", dispatcher_header="g/dispatch.h", m_macro="CASE_M",
                kernel_type="Kind::Fp16Int4G")


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "g").mkdir()
    (tmp_path / "g/launcher.h").write_text(LAUNCHER_H)
    (tmp_path / "g/dispatch.h").write_text(DISPATCH_H)
    for rel, text in FILES.items():
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_selects_by_arch_branch_and_macro_arguments(tree: Path) -> None:
    sel = select_gemv(tree, RULE, 90)
    assert [p.name for p in sel.sources] == ["d_fp16_plain.cu"]  # not the K-tile 128 one, not bf16
    assert sel.args == ("Kind::Fp16Int4G", "FpA", "I4W", "Plain", "false", "64")
    assert sel.details == "ns::Details<ns::FpA, ns::I4W, ns::Plain, false, 64>"
    assert sel.max_m == 3  # the #if 0 case is not read
    assert len(sel.candidates) == 4


def test_other_arch_takes_its_own_branch(tree: Path) -> None:
    assert [p.name for p in select_gemv(tree, RULE, 86).sources] == ["d_fp16_inter.cu"]


def test_no_branch_for_the_arch(tree: Path) -> None:
    with pytest.raises(BadInput, match="no arch branch"):
        select_gemv(tree, RULE, 60)


def test_c2_sm90_dispatcher(c2_root: Path) -> None:
    from vendor_slim.targets.trtllm_fpaintb.rulefile import load_rules

    rule = load_rules().gemv
    assert rule is not None
    sel = select_gemv(c2_root / "cpp", rule, 90)
    assert [p.name for p in sel.sources] == ["kernelDispatcherFp16Int4GroupwiseColumnMajorFalse.cu"]
    assert sel.max_m == 4 and len(sel.candidates) == 15
