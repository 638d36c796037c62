"""Selection: the rule's predicate over parsed instantiations, cross-checked with the runner's needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.errors import BadInput
from vendor_slim.models import Instantiation, SourceTree
from vendor_slim.targets.trtllm_fpaintb.generate import generated_files, run_generator
from vendor_slim.targets.trtllm_fpaintb.rulefile import Rules
from vendor_slim.targets.trtllm_fpaintb.runner import RunnerAnalysis, analyse_runner
from vendor_slim.targets.trtllm_fpaintb.units import runner_tu_paths


@dataclass(frozen=True)
class KernelsReport:
    source: SourceTree
    generator_args: tuple[str, ...]
    generator_files: int
    gen_root: Path
    instantiations: tuple[Instantiation, ...]
    selected: frozenset[int]
    needed: frozenset[int]
    missing_for_runner: tuple[str, ...]
    analysis: RunnerAnalysis
    quant_ops: tuple[str, ...]
    rules: Rules

    @property
    def missing(self) -> tuple[str, ...]:
        return self.missing_for_runner

    @property
    def kept(self) -> tuple[Instantiation, ...]:
        return tuple(inst for i, inst in enumerate(self.instantiations) if i in self.selected and i in self.needed)

    def document(self, commit: str | None) -> dict[str, Any]:
        """The `kernels --json` document of the contract."""
        insts = []
        for i, inst in enumerate(self.instantiations):
            insts.append({
                "file": inst.file, "index": inst.index, "function": inst.function,
                "act": inst.act, "weight": inst.weight, "scale_zero": inst.scale_zero, "bias": inst.bias,
                "out": inst.out, "quant_op": inst.quant_op, "epilogue": inst.epilogue,
                "cta": list(inst.cta), "cluster": list(inst.cluster), "mainloop": inst.mainloop,
                "epilogue_schedule": inst.epilogue_schedule,
                "selected": i in self.selected, "needed_by_runner": i in self.needed,
            })
        return {
            "source": {"path": str(self.source.path), "layout": self.source.layout, "commit": commit},
            "generator": {"path": str(self.source.generator), "args": list(self.generator_args),
                          "files": self.generator_files},
            "instantiations": insts,
            "summary": {
                "total": len(self.instantiations), "selected": len(self.selected),
                "needed_by_runner": len(self.needed), "missing_for_runner": len(self.missing_for_runner),
                "selected_not_needed": len(self.selected - self.needed),
                "needed_not_selected": len(self.needed - self.selected),
            },
            "missing_for_runner": list(self.missing_for_runner),
            "quant_ops": list(self.quant_ops),
        }


def matches(inst: Instantiation, rules: Rules, quant_ops: Sequence[str]) -> bool:
    enums = {rules.quant_ops[q].enum.split("::")[-1] for q in quant_ops}
    return (
        inst.function == rules.target.launcher
        and inst.act in rules.select.act
        and inst.weight in rules.select.weight
        and inst.quant_op in enums
    )


def select_kernels(src: SourceTree, rules: Rules, quant_ops: Sequence[str], cache: Path) -> KernelsReport:
    arch = rules.target.generator_arch
    gen_root, shown = run_generator(src, arch, cache)
    files = generated_files(gen_root, src, arch)
    if not files:
        raise BadInput(
            f"the generator wrote no {rules.target.generated_kind} files matching "
            f"{src.generator_output_glob.replace('{arch}', arch)} (output kept in {gen_root})"
        )
    runner_tus = runner_tu_paths(src, rules, quant_ops)
    insts, analysis = analyse_runner(
        src, files, gen_root, rules.target.launcher, runner_tus,
        std=rules.target.std, arch=rules.target.cuda_arch, defines=rules.target.defines,
        arg_fields=rules.target.arg_fields, probe_path=cache / "probe" / f"{src.layout}-runner-probe.cu",
        cache=cache,
    )
    selected = frozenset(i for i, inst in enumerate(insts) if matches(inst, rules, quant_ops))
    return KernelsReport(
        source=src, generator_args=tuple(shown), generator_files=len(files), gen_root=gen_root,
        instantiations=tuple(insts), selected=selected, needed=analysis.needed,
        missing_for_runner=analysis.missing, analysis=analysis, quant_ops=tuple(quant_ops), rules=rules,
    )
