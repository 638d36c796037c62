"""The thin click CLI: parse flags, call the pipeline, map error classes to exit codes."""

from __future__ import annotations

import json
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


def main() -> None:
    cli(prog_name="vendor-slim")
