"""`vendor-slim kernels` on synthetic trees: instantiation-level selection and the runner cross-check."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import no_traceback, run_cli
from tests.synth import generator_script, make_tree


def _by_key(doc: dict) -> dict[tuple[str, int], dict]:
    return {(i["file"].rsplit("/", 1)[-1], i["index"]): i for i in doc["instantiations"]}


def test_selects_instantiations_out_of_mixed_files(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", "--json", cache=tmp_path / "c")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["source"]["layout"] == "trtllm-2024"
    assert doc["generator"]["files"] == 2
    # 8 written, one under `#if defined(ENABLE_BF16)` which the target does not define.
    assert doc["summary"]["total"] == 7
    inst = _by_key(doc)
    selected = {k for k, v in inst.items() if v["selected"]}
    assert selected == {("cutlass_kernel_file_1.generated.cu", 0), ("cutlass_kernel_file_2.generated.cu", 0)}
    needed = {k for k, v in inst.items() if v["needed_by_runner"]}
    assert needed == selected
    # The INT8-weight and BF16 kernels that share file 1 are not selected.
    assert not inst[("cutlass_kernel_file_1.generated.cu", 1)]["selected"]
    assert ("cutlass_kernel_file_1.generated.cu", 2) not in inst  # preprocessed away
    assert not inst[("cutlass_kernel_file_1.generated.cu", 3)]["selected"]
    assert inst[("cutlass_kernel_file_1.generated.cu", 3)]["weight"] == "int8_t_"
    assert inst[("cutlass_kernel_file_2.generated.cu", 0)]["cta"] == [128]
    assert doc["summary"]["missing_for_runner"] == 0


def test_if_constexpr_paths_and_quant_op_all(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "pc", "--json",
                cache=tmp_path / "c")
    assert r.code == 0, r.err
    needed = {k for k, v in _by_key(r.json()).items() if v["needed_by_runner"]}
    # Q::B reaches the 256 tile only through `if constexpr`.
    assert needed == {("cutlass_kernel_file_1.generated.cu", 4), ("cutlass_kernel_file_2.generated.cu", 1),
                      ("cutlass_kernel_file_2.generated.cu", 2)}
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "all", "--json",
                cache=tmp_path / "c")
    assert r.json()["summary"]["selected"] == 5
    assert r.json()["summary"]["needed_by_runner"] == 5


def test_runner_referencing_a_launcher_nobody_generates(tmp_path: Path) -> None:
    extra = ("namespace syn { template <typename A> void extra(A const* a) "
             "{ launch<A, int4_t, Q::B, 512>(a, nullptr, 0); } template void extra<half_t>(half_t const*); }\n")
    tree = make_tree(tmp_path / "tree", runner_b_extra=extra)
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", "--quant-op", "pc", "--json",
                cache=tmp_path / "c")
    assert r.code == 1, r.err
    assert no_traceback(r)
    doc = r.json()
    assert doc["summary"]["missing_for_runner"] == 1
    assert "512" in doc["missing_for_runner"][0]
    assert "not generated" in r.err and "512" in r.err


def test_generator_that_raises(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", generator="raise SystemExit('generator exploded: bad cutlass_library')\n")
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", cache=tmp_path / "c")
    assert r.code == 3
    assert "generator exploded" in r.err and "generate_kernels.py" in r.err
    assert no_traceback(r)


def test_generator_that_writes_nothing(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", generator=generator_script({}))
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", cache=tmp_path / "c")
    assert r.code == 3
    assert "wrote no files" in r.err
    assert no_traceback(r)


def test_generator_output_stays_in_cache(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    r = run_cli("kernels", "--trtllm", tree, "--rules", tree / "rules.toml", cache=tmp_path / "c")
    assert r.code == 0, r.err
    after = sorted(p.relative_to(tree) for p in tree.rglob("*") if "__pycache__" not in p.parts)
    assert after == before
    assert list((tmp_path / "c" / "generated").glob("*/gemm/*.generated.cu"))
