"""`verify --results FOLDER`: verify.json, and with --run results.json, bench.md and bench.png."""

from __future__ import annotations

import json
from pathlib import Path

from vendor_slim.adapters import plot
from vendor_slim.engine.verify import VerifyReport
from vendor_slim.report.bench import bench_table


def write_results(report: VerifyReport, folder: Path) -> list[Path]:
    """verify.json, and with --run the test program's JSON, a bench table and a plot."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "verify.json"]
    written[0].write_text(json.dumps(report.to_json(), indent=2) + "\n")
    res = (report.run or {}).get("results")
    if res:
        (folder / "results.json").write_text(json.dumps(res, indent=2) + "\n")
        (folder / "bench.md").write_text(bench_table(res))
        written += [folder / "results.json", folder / "bench.md"]
        if plot.bench_plot(res, folder / "bench.png"):
            written.append(folder / "bench.png")
    return written
