"""The token-level instantiation parser on exact synthetic inputs, and its robustness."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vendor_slim.adapters.libclang.tokens import lex
from vendor_slim.targets.trtllm_fpaintb.instantiations import parse_generated
from vendor_slim.targets.trtllm_fpaintb.rulefile import load_rules

FIELDS = load_rules().target.arg_fields

TEXT = """\
#include "a/launcher.inl"
#include "b/extra.h"
namespace tensorrt_llm { namespace kernels {
namespace cutlass_kernels_oss
{
// a comment with template void fake<int>(int);
template void sm90_generic_mixed_gemm_kernelLauncher<half, cutlass::uint4b_t, half, half, half,
cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_ONLY, tensorrt_llm::cutlass_extensions::EpilogueOpBias,
cute::Shape<cute::Int<64>, cute::Int<16>, cute::Int<64>>, cute::Shape<cute::Int<1>, cute::Int<1>, cute::Int<1>>,
cutlass::gemm::KernelTmaWarpSpecializedPingpong, cutlass::epilogue::TmaWarpSpecialized> (
const half*, const cutlass::uint4b_t*, const half*, const half*, const half*, const float,
half*, int, int, int, const int, tensorrt_llm::cutlass_extensions::CutlassGemmConfig, char*, size_t, cudaStream_t, int*
);
#define UNUSED_MACRO(x) \\
    template void never<x>(x);
/* block
   comment */
#if defined(ENABLE_FP8)
template void sm90_generic_mixed_gemm_kernelLauncher<__nv_fp8_e4m3, cutlass::uint4b_t, half, half, half,
cutlass::WeightOnlyQuantOp::PER_COLUMN_SCALE_ONLY, X, cute::Shape<cute::_128, cute::_16, cute::_128>,
cute::Shape<cute::_2, cute::_1, cute::_1>, M, E>(const __nv_fp8_e4m3*);
#endif
extern template void declared_only<int>(int);
} } }
namespace other::inner { template unsigned int f<(3 > 2), A<B<int>>>(unsigned int); }
"""


def test_parse_exact() -> None:
    pf = parse_generated(lex(Path("/virtual/g.cu"), TEXT), "g.cu", FIELDS)
    assert pf.preamble == ('#include "a/launcher.inl"', '#include "b/extra.h"')
    insts = pf.instantiations
    assert [i.function for i in insts] == ["sm90_generic_mixed_gemm_kernelLauncher"] * 2 + ["f"]
    a, b, c = insts
    assert a.namespace == ("tensorrt_llm", "kernels", "cutlass_kernels_oss")
    assert (a.act, a.weight, a.quant_op, a.cta, a.cluster) == (
        "half", "cutlass::uint4b_t", "FINEGRAINED_SCALE_ONLY", (64, 16, 64), (1, 1, 1))
    assert a.mainloop == "cutlass::gemm::KernelTmaWarpSpecializedPingpong"
    assert a.params.startswith("const half*, const cutlass::uint4b_t*")
    assert (b.cta, b.cluster, b.quant_op) == ((128, 16, 128), (2, 1, 1), "PER_COLUMN_SCALE_ONLY")
    assert pf.disabled == frozenset({1})  # ENABLE_FP8 is not defined
    assert c.namespace == ("other", "inner")
    assert c.args == ("(3>2)", "A<B<int>>")
    assert c.return_type == "unsigned int"


def test_defines_enable_guarded() -> None:
    lexed = lex(Path("/virtual/g.cu"), TEXT, defines=["ENABLE_FP8"])
    assert parse_generated(lexed, "g.cu", FIELDS).disabled == frozenset()


_tokens = st.sampled_from(["template", "void", "f", "<", ">", ">>", "(", ")", "{", "}", ";", ",", "namespace",
                           "a", "::", "int", "#if", "#endif", "\n", "// c\n", "/*", "*/", "extern", "1", "'", '"'])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_tokens, max_size=40))
def test_parser_never_crashes(parts: list[str]) -> None:
    text = " ".join(parts)
    pf = parse_generated(lex(Path("/virtual/h.cu"), text), "h.cu", FIELDS)
    for inst in pf.instantiations:
        assert inst.function and inst.return_type
