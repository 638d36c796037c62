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
from vendor_slim.layout import TreeCounts

F = TypeVar("F", bound=Callable[..., Any])

QUANT_OP_CHOICES = ["fg", "pc", "fgz", "all"]


_GLOBALS_KEY = "vendor_slim.globals"


def _store_global(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Global options may come before or after the subcommand: either place sets them for the run."""
    if value not in (None, False):
        ctx.find_root().meta.setdefault(_GLOBALS_KEY, {})[param.name] = value
    return value


def _global_params() -> list[click.Parameter]:
    """--debug, -q/--quiet, -v/--verbose, --color: on the group and on every command."""
    return [
        click.Option(["--debug"], is_flag=True, expose_value=False, callback=_store_global,
                     help="Show Python tracebacks."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_store_global,
                     help="No progress on stderr (errors still go there)."),
        click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=_store_global,
                     help="Progress: also one line per finished item."),
        click.Option(["--color"], type=click.Choice(["auto", "always", "never"]), default=None, expose_value=False,
                     callback=_store_global,
                     help="Colour in tables and progress (auto: on a terminal, unless NO_COLOR is set)."),
    ]


def global_settings() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return dict(ctx.find_root().meta.get(_GLOBALS_KEY, {})) if ctx is not None else {}


def _configure_output() -> None:
    from vendor_slim.adapters import progress

    g = global_settings()
    level = progress.QUIET if g.get("quiet") else progress.VERBOSE if g.get("verbose") else progress.NORMAL
    progress.configure(level, color=g.get("color") or "auto", no_color=bool(os.environ.get("NO_COLOR")))


def _fail(exc: VendorSlimError) -> None:
    click.echo(f"vendor-slim: error: {exc.render()}", err=True)
    sys.exit(exc.exit_code)


def handled(fn: F) -> F:
    """Run a command body; user-facing errors become one message and the contract's exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(global_settings().get("debug"))
        _configure_output()
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
    fn = click.option("--target", "target", default=None, metavar="NAME",
                      help="The target to extract (default: chosen from the tree's layout; w4a16-sm90 for "
                           "TensorRT-LLM and FlashInfer trees).")(fn)
    fn = click.option("--cutlass", type=click.Path(path_type=Path), default=None,
                      help="Take CUTLASS from PATH instead of the tree's own copy.")(fn)
    return click.option("--trtllm", type=click.Path(path_type=Path), required=True,
                        help="TensorRT-LLM checkout or FlashInfer package directory.")(fn)


def _settings(trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None = None,
              quant_op: tuple[str, ...] = (), jobs: int | None = None, **extra: Any) -> Any:
    """Flags -> the one typed Settings object the application layer reads."""
    from vendor_slim.app.settings import Settings

    return Settings(tree=trtllm, target=target, cutlass=cutlass, rules=rules, quant_ops=quant_op,
                    jobs=jobs or os.cpu_count() or 1, **extra)


def rules_options(fn: F) -> F:
    fn = click.option("--quant-op", "quant_op", multiple=True, type=click.Choice(QUANT_OP_CHOICES),
                      help="fg (default), pc, fgz or all; repeatable.")(fn)
    return click.option("--rules", type=click.Path(path_type=Path), default=None,
                        help="Rules file (default rules/w4a16_sm90.toml).")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vendor-slim")
def cli() -> None:
    """Carve a minimal, standalone, buildable W4A16 SM90 GEMM tree out of TensorRT-LLM.

    Progress goes to stderr; stdout holds only the result (a table, or the JSON document with --json)."""


@cli.command()
@trtllm_option
@rules_options
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON document.")
@handled
def kernels(trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...],
            as_json: bool) -> None:
    """List the generator's launcher instantiations, which are selected and which the runner needs."""
    from vendor_slim.app import kernels as app_kernels
    from vendor_slim.report.documents import kernels_json

    rep, commit = app_kernels.run(_settings(trtllm, target, cutlass, rules, quant_op))
    doc = kernels_json(rep, commit)
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=False))
    else:
        from vendor_slim.report.tables import print_kernels

        print_kernels(doc)
    if doc["missing_for_runner"]:
        missing = doc["missing_for_runner"]
        names = "\n  ".join(missing)
        raise CheckFailed(f"{len(missing)} launcher(s) the runner references are not generated:\n  {names}")


def jobs_option(fn: F) -> F:
    return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                        help="Parallel parses (default: the core count).")(fn)


def only_option(fn: F) -> F:
    return click.option("--only", multiple=True, type=click.Choice(["runner", "launcher", "gemv", "api", "link"]),
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
def closure(trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...],
            jobs: int | None, only: tuple[str, ...], as_json: bool, oracle: str | None) -> None:
    """The include closure of every TU of the target, per TU and in union."""
    from vendor_slim.app.closure import analysed, oracle_report
    from vendor_slim.app.pipeline import shown_path
    from vendor_slim.report.documents import closure_json

    b, report, tus = analysed(_settings(trtllm, target, cutlass, rules, quant_op, jobs, only=only))
    diff = oracle_report(report, tus) if oracle else None
    doc = closure_json(report, diff)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        from vendor_slim.report.tables import print_closure

        print_closure(doc, report.stats.seconds, oracle is not None,
                      {str(c.source): shown_path(b, c.source) for c in report.tus})
    if diff and (diff["missing"] or diff["extra"]):
        raise CheckFailed(f"closure differs from nvcc -M: {len(diff['missing'])} missing, {len(diff['extra'])} extra")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@trtllm_option
@rules_options
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="Print every match and its chain as JSON.")
@handled
def why(file: Path, trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None,
        quant_op: tuple[str, ...], jobs: int | None, as_json: bool) -> None:
    """The shortest include chain from a TU of the target to FILE (each file that FILE names).

    FILE is a path or the tail of one (cutlass/gemm/gemm.h); each step shows FILE:LINE of its #include.
    Exit 1 when no TU reads it."""
    from vendor_slim.app.closure import why_document

    doc = why_document(_settings(trtllm, target, cutlass, rules, quant_op, jobs), file)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    from vendor_slim.report.tables import print_why

    print_why(doc)


@cli.command()
@trtllm_option
@rules_options
@jobs_option
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml", "json"]), default="json")
@click.option("-o", "output", type=click.Path(path_type=Path), default=None, help="Write to FILE.")
@handled
def graph(trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...],
          jobs: int | None, fmt: str, output: Path | None) -> None:
    """The include graph of the target (union of all TUs)."""
    from vendor_slim.app.closure import target_closure
    from vendor_slim.report.graph import export_graph

    report, _ = target_closure(_settings(trtllm, target, cutlass, rules, quant_op, jobs))
    text = export_graph(report.graph, fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(text, nl=False)
    else:
        from vendor_slim.adapters.fs import atomic_write_text

        atomic_write_text(output, text)


@cli.command()
@trtllm_option
@rules_options
@jobs_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("out/w4a16-sm90"), show_default=True,
              help="Directory to write the standalone tree to.")
@click.option("--force", is_flag=True, help="Replace an existing tree at --out that differs.")
@click.option("--kernels-only", is_flag=True,
              help="Emit only the launcher library (no runner, API or test program): for trees whose runner TU "
                   "cannot build, and for smoke builds.")
@click.option("--max-kernels", type=click.IntRange(min=1), default=None,
              help="Keep only the first N selected kernels (smoke builds).")
@click.option("--per-tu", type=click.IntRange(min=1), default=None,
              help="Instantiations per generated TU (default: the rules', 8).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.option("--no-compile-check", is_flag=True,
              help="Do not compile the tool-written files (API, test, headers, generated TUs' preamble) before "
                   "putting the tree in place.")
@handled
def extract(trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None, quant_op: tuple[str, ...],
            jobs: int | None, out: Path, force: bool, kernels_only: bool, max_kernels: int | None,
            per_tu: int | None, as_json: bool, no_compile_check: bool) -> None:
    """Write the standalone source tree (vendored files, generated TUs, CMake, API, tests, lock)."""
    from vendor_slim.app import extract as app_extract
    from vendor_slim.models import Shape

    shape = Shape(kernels_only=kernels_only, max_kernels=max_kernels, per_tu=per_tu)
    state, t, counts = app_extract.run(_settings(trtllm, target, cutlass, rules, quant_op, jobs, shape=shape),
                                       out, force, compile_check=not no_compile_check)
    _extract_summary(out, state, t, counts, as_json)


def _extract_summary(out: Path, state: str, t: Any, counts: TreeCounts, as_json: bool) -> None:
    from vendor_slim.app.pipeline import shown_path

    links = [shown_path(t, p) for p in t.link.sources]
    if as_json:
        click.echo(json.dumps({"dir": str(out), "state": state, "files": counts.total, "kernels": len(t.plan.kernels),
                               "kernel_tus": len(t.plan.kernel_tus), "upstream_files": sum(counts.upstream.values()),
                               "licence_files": counts.licences, "tool_files": counts.tool,
                               "link_sources": links}, indent=2))
        return
    click.echo(f"{out}: {state}; {counts.line()}; {len(t.plan.kernels)} kernels in {len(t.plan.kernel_tus)} TUs; "
               f"link closure: {', '.join(links) or 'none'}")


def lock_rules_option(fn: F) -> F:
    """--rules for commands that re-read an emitted tree (sync, diff): the lock names the default."""
    return click.option("--rules", type=click.Path(path_type=Path), default=None,
                        help="Rules file (default: the one the lock names, when it is one of this "
                             "installation's).")(fn)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@trtllm_option
@lock_rules_option
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@handled
def sync(directory: Path, trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None,
         jobs: int | None, as_json: bool) -> None:
    """Re-extract DIRECTORY from --trtllm with exactly the flags its lock records (quant ops, shape, rules)."""
    from vendor_slim.app.keepup import sync as run_sync

    state, t, counts = run_sync(directory, _settings(trtllm, target, cutlass, rules, (), jobs))
    _extract_summary(directory, state, t, counts, as_json)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("out/w4a16-sm90"))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel compiles (default: chosen from free memory and cores).")
@click.option("--no-build", is_flag=True, help="Only check the lock.")
@click.option("--run", "run_tests", is_flag=True, help="Also run the test program on a local Hopper GPU.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option("--keep-build", type=click.Path(path_type=Path), default=None,
              help="Build in this folder and keep it (default: a temporary folder, removed).")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Write verify.json (and with --run results.json, bench.md, bench.png) into this folder.")
@handled
def verify(directory: Path, jobs: int | None, no_build: bool, run_tests: bool, as_json: bool,
           keep_build: Path | None, results: Path | None) -> None:
    """Check an emitted tree: lock integrity, hermetic build, minimality, link completeness."""
    from vendor_slim.app import verify as app_verify

    report = app_verify.run(directory, jobs=jobs, no_build=no_build, run_tests=run_tests, keep_build=keep_build)
    if results is not None:
        from vendor_slim.report.results import write_results

        write_results(report, results)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from vendor_slim.report.tables import print_verify

        print_verify(report)
    if not report.ok:
        raise CheckFailed(f"verify failed for {directory}:\n" + "\n".join(f"- {p}" for p in report.problems))



@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--repo", type=click.Path(path_type=Path), default=None,
              help="The git repository to publish to (created if absent; default: DIRECTORY itself). Its work "
                   "tree is replaced by the tree's files, its .git kept.")
@click.option("--tag", default=None, help="Also create this annotated tag on the published commit.")
@click.option("--message", "-m", "text", default=None,
              help="Commit message (default: a title and summary from the lock); the provenance trailers are "
                   "always appended.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handled
def publish(directory: Path, repo: Path | None, tag: str | None, text: str | None, as_json: bool) -> None:
    """Commit an emitted tree to a git repository, with provenance trailers from its lock."""
    from dataclasses import asdict

    from vendor_slim.app.keepup import publish as run_publish

    res = run_publish(directory, repo, tag, text)
    if as_json:
        click.echo(json.dumps(asdict(res), indent=2))
        return
    tagged = f"; tagged {res.tag}" if res.tag else ""
    if res.state == "unchanged":
        click.echo(f"nothing to publish: {res.repo} already holds this tree at {res.commit[:12]}{tagged}")
    else:
        made = " (new repository)" if res.created else ""
        click.echo(f"{res.repo}: published {res.commit[:12]}{made}, {res.files} files{tagged}")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@trtllm_option
@lock_rules_option
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="Print the diff as a JSON document.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything differs (as git diff --exit-code).")
@handled
def diff(directory: Path, trtllm: Path, target: str | None, cutlass: Path | None, rules: Path | None,
         jobs: int | None, as_json: bool, exit_code: bool) -> None:
    """What extracting from another upstream tree would change in DIRECTORY (nothing is written)."""
    from vendor_slim.app.keepup import diff as run_diff
    from vendor_slim.engine.diff import format_diff

    doc = run_diff(directory, _settings(trtllm, target, cutlass, rules, (), jobs))
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(format_diff(doc, str(directory), str(trtllm)), nl=False)
    if not doc["complete"]:
        click.echo("vendor-slim: warning: only the kernels were compared; the files were not, because the new "
                   "tree cannot be extracted (see file_diff_error)", err=True)
    if exit_code and differs(doc):
        sys.exit(1)


def differs(doc: dict[str, Any]) -> bool:
    """Whether the diff holds any change: kernels, files, licences, the rules or an upstream."""
    counts = [v for v in doc["summary"].values() if v]
    return bool(counts) or bool(doc["rules"]["changed"]) or any((doc["upstream"].get("changed") or {}).values())


for _command in (cli, *cli.commands.values()):  # global options before and after the subcommand
    _command.params.extend(_global_params())


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Write compare.md, compare.json and one PNG per shape into DIR.")
@handled
def compare(results: tuple[Path, ...], out: Path | None) -> None:
    """One table and one plot per shape across trees' results (RESULTS.json files or verify --results folders)."""
    from vendor_slim.app.compare import compare as run_compare

    md, written = run_compare(list(results), out)
    click.echo(md, nl=False)
    if written:
        click.echo(f"wrote {len(written)} files to {out}", err=True)


def main() -> None:
    cli(prog_name="vendor-slim")
