"""JSON documents of the contract, built from stage results (kept out of the CLI to stay testable)."""

from __future__ import annotations

from typing import Any

from vendor_slim.targets.trtllm_fpaintb.select import KernelsReport


def kernels_json(rep: KernelsReport, commit: str | None) -> dict[str, Any]:
    insts = []
    for i, inst in enumerate(rep.instantiations):
        insts.append({
            "file": inst.file, "index": inst.index, "function": inst.function,
            "act": inst.act, "weight": inst.weight, "scale_zero": inst.scale_zero, "bias": inst.bias,
            "out": inst.out, "quant_op": inst.quant_op, "epilogue": inst.epilogue,
            "cta": list(inst.cta), "cluster": list(inst.cluster), "mainloop": inst.mainloop,
            "epilogue_schedule": inst.epilogue_schedule,
            "selected": i in rep.selected, "needed_by_runner": i in rep.needed,
        })
    return {
        "source": {"path": str(rep.source.path), "layout": rep.source.layout, "commit": commit},
        "generator": {"path": str(rep.source.generator), "args": list(rep.generator_args),
                      "files": rep.generator_files},
        "instantiations": insts,
        "summary": {
            "total": len(rep.instantiations), "selected": len(rep.selected),
            "needed_by_runner": len(rep.needed), "missing_for_runner": len(rep.missing_for_runner),
            "selected_not_needed": len(rep.selected - rep.needed),
            "needed_not_selected": len(rep.needed - rep.selected),
        },
        "missing_for_runner": list(rep.missing_for_runner),
        "quant_ops": list(rep.quant_ops),
    }
