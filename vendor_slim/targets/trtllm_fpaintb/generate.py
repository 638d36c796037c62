"""Run the upstream kernel generator, isolated, into a cache directory keyed by its inputs."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from vendor_slim.adapters import proc
from vendor_slim.adapters.cache import hash_files
from vendor_slim.adapters.progress import stage
from vendor_slim.errors import ExternalToolError
from vendor_slim.models import SourceTree

# Run as a package module: FlashInfer's copy uses a relative import of its own cutlass_library.py.
_PACKAGE_DRIVER = """
import importlib, sys
sys.path.insert(0, sys.argv[1])
mod = importlib.import_module(sys.argv[2] + ".generate_kernels")
mod.generate_gemm_operations(sys.argv[3], sys.argv[4])
"""


def _inputs(src: SourceTree) -> list[Path]:
    files = [p for p in src.generator.parent.glob("*.py") if p.is_file()]
    lib = src.cutlass_python / "cutlass_library"
    if lib.is_dir():
        files += [p for p in lib.rglob("*.py") if p.is_file()]
    return files


def generator_command(src: SourceTree, out_dir: Path, arch: str) -> list[str]:
    if src.generator_style == "package":
        pkg = src.generator.parent
        return [sys.executable, "-c", _PACKAGE_DRIVER, str(pkg.parent), pkg.name, str(out_dir), arch]
    args = [a.replace("{arch}", arch) for a in src.generator_args]
    return [sys.executable, str(src.generator), "-o", str(out_dir), *args]


def run_generator(src: SourceTree, arch: str, cache: Path) -> tuple[Path, list[str]]:
    """Generated output directory (cached) and the command line that produced it."""
    key = hash_files(_inputs(src), src.generator_style, *src.generator_args, arch, "v1")[:24]
    final = cache / "generated" / key
    # The command as recorded: machine-independent (no temp dir, no absolute interpreter path).
    shown = ["python", str(src.generator.relative_to(src.path)), *(
        ["generate_gemm_operations(OUT, " + repr(arch) + ")"] if src.generator_style == "package"
        else ["-o", "OUT", *[a.replace("{arch}", arch) for a in src.generator_args]])]
    if (final / ".complete").is_file():
        return final, shown
    with stage("kernel generator"):
        _generate(src, arch, final, key)
    return final, shown


def _generate(src: SourceTree, arch: str, final: Path, key: str) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
    try:
        out = tmp / "out"
        out.mkdir()
        cmd = generator_command(src, out, arch)
        # cwd is the temp dir: a generator writing relative paths never touches the user's tree.
        env = {"PYTHONPATH": str(src.cutlass_python), "PYTHONDONTWRITEBYTECODE": "1"}
        proc.run(cmd, what="kernel generator", cwd=tmp, env=env, timeout=600)
        if not any(p.is_file() for p in out.rglob("*")):
            raise ExternalToolError(
                "kernel generator wrote no files", command=cmd, returncode=0, output="(no files in output dir)"
            )
        (out / ".complete").write_text("ok\n")
        try:
            out.rename(final)
        except OSError:
            if not (final / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def generated_files(out_dir: Path, src: SourceTree, arch: str) -> list[Path]:
    pattern = src.generator_output_glob.replace("{arch}", arch)
    return sorted(p for p in out_dir.glob(pattern) if p.is_file())
