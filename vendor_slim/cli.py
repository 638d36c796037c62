"""The thin click CLI: parse flags, call the pipeline, map error classes to exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from vendor_slim import __version__
from vendor_slim.errors import CheckFailed, VendorSlimError

F = TypeVar("F", bound=Callable[..., Any])

QUANT_OP_CHOICES = ["fg", "pc", "fgz", "all"]


def _fail(exc: VendorSlimError) -> None:
    click.echo(f"vendor-slim: error: {exc.render()}", err=True)
    sys.exit(exc.exit_code)


def handled(fn: F) -> F:
    """Run a command body; user-facing errors become one message and the contract's exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return fn(*args, **kwargs)
        except VendorSlimError as exc:
            if debug:
                raise
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("vendor-slim: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: say so in one line unless --debug
            if debug:
                raise
            click.echo(f"vendor-slim: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def trtllm_option(fn: F) -> F:
    fn = click.option("--cutlass", type=click.Path(path_type=Path), default=None,
                      help="Take CUTLASS from PATH instead of the tree's own copy.")(fn)
    return click.option("--trtllm", type=click.Path(path_type=Path), required=True,
                        help="TensorRT-LLM checkout or FlashInfer package directory.")(fn)


def rules_options(fn: F) -> F:
    fn = click.option("--quant-op", "quant_op", multiple=True, type=click.Choice(QUANT_OP_CHOICES),
                      help="fg (default), pc, fgz or all; repeatable.")(fn)
    return click.option("--rules", type=click.Path(path_type=Path), default=None,
                        help="Rules file (default rules/w4a16_sm90.toml).")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vendor-slim")
@click.option("--debug", is_flag=True, help="Show Python tracebacks.")
def cli(debug: bool) -> None:
    """Carve a minimal, standalone, buildable W4A16 SM90 GEMM tree out of TensorRT-LLM."""


@cli.command()
@trtllm_option
@rules_options
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON document.")
@handled
def kernels(trtllm: Path, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...],
            as_json: bool) -> None:
    """List the generator's launcher instantiations, which are selected and which the runner needs."""
    from vendor_slim.app import kernels_report
    from vendor_slim.report import kernels_json

    rep, commit = kernels_report(trtllm, cutlass, rules, quant_op)
    doc = kernels_json(rep, commit)
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=False))
    else:
        from vendor_slim.ui import print_kernels

        print_kernels(doc)
    if doc["missing_for_runner"]:
        missing = doc["missing_for_runner"]
        names = "\n  ".join(missing)
        raise CheckFailed(f"{len(missing)} launcher(s) the runner references are not generated:\n  {names}")


def jobs_option(fn: F) -> F:
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                        help="Parallel parses (default: the core count).")(fn)


def only_option(fn: F) -> F:
    return click.option("--only", multiple=True, type=click.Choice(["runner", "launcher", "link"]),
                        help="Restrict to TUs of this role (repeatable).")(fn)


@cli.command()
@trtllm_option
@rules_options
@jobs_option
@only_option
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON document.")
@click.option("--oracle", type=click.Choice(["nvcc"]), default=None,
              help="Also run nvcc -M (c++ -M for host TUs) per TU and report differences; exit 1 on any.")
@handled
def closure(trtllm: Path, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...], jobs: int | None,
            only: tuple[str, ...], as_json: bool, oracle: str | None) -> None:
    """The include closure of every TU of the target, per TU and in union."""
    from vendor_slim.app import oracle_report, target_closure
    from vendor_slim.stages.closure import closure_json

    report, tus = target_closure(trtllm, cutlass, rules, quant_op, jobs or os.cpu_count() or 1, only)
    diff = oracle_report(report, tus) if oracle else None
    doc = closure_json(report, diff)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        from vendor_slim.ui import print_closure

        print_closure(doc, report.stats.seconds, oracle is not None)
    if diff and (diff["missing"] or diff["extra"]):
        raise CheckFailed(f"closure differs from nvcc -M: {len(diff['missing'])} missing, {len(diff['extra'])} extra")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@trtllm_option
@rules_options
@jobs_option
@handled
def why(file: Path, trtllm: Path, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...],
        jobs: int | None) -> None:
    """The shortest include chain from a TU of the target to FILE."""
    from vendor_slim.app import target_closure
    from vendor_slim.stages.closure import why as why_chain

    report, _ = target_closure(trtllm, cutlass, rules, quant_op, jobs or os.cpu_count() or 1)
    for depth, p in enumerate(why_chain(report, file)):
        click.echo(f"{'  ' * depth}{p}")


@cli.command()
@trtllm_option
@rules_options
@jobs_option
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml", "json"]), default="json")
@click.option("-o", "output", type=click.Path(path_type=Path), default=None, help="Write to FILE.")
@handled
def graph(trtllm: Path, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...], jobs: int | None,
          fmt: str, output: Path | None) -> None:
    """The include graph of the target (union of all TUs)."""
    from vendor_slim.app import target_closure
    from vendor_slim.stages.closure import export_graph

    report, _ = target_closure(trtllm, cutlass, rules, quant_op, jobs or os.cpu_count() or 1)
    text = export_graph(report.graph, fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(text, nl=False)
    else:
        from vendor_slim.fsutil import atomic_write_text

        atomic_write_text(output, text)


def main() -> None:
    cli(prog_name="vendor-slim")
