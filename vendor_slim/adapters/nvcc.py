"""What nvcc (and the host C++ compiler) read: the preprocessor passes and the `-M` oracle.

Nothing here is hard-coded per CUDA version: the passes are read from `nvcc --dryrun -M`, which
prints the exact host-compiler `-E` commands nvcc runs for its host pass and each device pass, and
each pass's predefined macros and system include directories are asked from that host compiler.
All subprocesses go through `vendor_slim.adapters.proc.run`.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters.fs import normalized
from vendor_slim.adapters.proc import run
from vendor_slim.errors import BadInput, ExternalToolError
from vendor_slim.models import Lang

NVCC_CU_FLAGS: tuple[str, ...] = ("-x", "cu", "-std=c++17", "-gencode=arch=compute_90a,code=sm_90a")
CXX_FLAGS: tuple[str, ...] = ("-std=c++17",)

# Options of the host compiler's -E command and how many arguments follow them.
_INCLUDE_OPTS = {"-I", "-isystem", "-iquote", "-idirafter"}
_MACRO_OPTS = {"-D", "-U"}
_DROP_WITH_ARG = {"-o", "-x", "-MF", "-MT", "-MQ"}
_DROP = {"-E", "-M", "-MM", "-MD", "-MMD", "-MG", "-MP"}


@dataclass(frozen=True)
class PreprocessPass:
    """One preprocessor run of the real compiler, described so another front end can replay it.

    `macros` are the pass's final predefined macros (compiler built-ins plus -D/-U), as
    (`NAME` or `NAME(params)`, body) pairs; `include_flags` are the -I/-isystem/-iquote/-idirafter
    options in order (two tokens each); `system_dirs` are the compiler's built-in search dirs, searched
    after them; `forced_includes` are `-include` files in order (the implicit stdc-predef.h first).
    """

    name: str  # "host", "device-sm_90a" or "cxx"
    compiler: str
    dialect: tuple[str, ...]  # -std=..., -m64 and other flags that change the predefined macros
    macros: tuple[tuple[str, str], ...]
    include_flags: tuple[str, ...]
    system_dirs: tuple[str, ...]
    forced_includes: tuple[str, ...]


FALLBACKS_ENV = "VENDOR_SLIM_NVCC_FALLBACKS"
DEFAULT_FALLBACKS = ("/usr/local/cuda/bin/nvcc",)


def locate_nvcc(env: Mapping[str, str], fallbacks: Sequence[str] | None = None) -> str:
    """nvcc from $CUDA_HOME (or $CUDA_PATH), $PATH, then the FALLBACKS, in that order.

    FALLBACKS default to $VENDOR_SLIM_NVCC_FALLBACKS (paths separated by os.pathsep; empty: none), else
    /usr/local/cuda/bin/nvcc: a test hides nvcc by emptying PATH, CUDA_HOME and the fallbacks."""
    home = env.get("CUDA_HOME") or env.get("CUDA_PATH")
    if home and Path(home, "bin", "nvcc").is_file():
        return str(Path(home, "bin", "nvcc"))
    found = shutil.which("nvcc", path=env.get("PATH", os.defpath))
    if found:
        return found
    if fallbacks is None:
        given = env.get(FALLBACKS_ENV)
        fallbacks = DEFAULT_FALLBACKS if given is None else tuple(p for p in given.split(os.pathsep) if p)
    for p in fallbacks:
        if Path(p).is_file():
            return p
    raise BadInput("nvcc was not found: set CUDA_HOME or put nvcc on PATH")


def nvcc_path() -> str:
    """nvcc for this process (its environment; see locate_nvcc)."""
    return locate_nvcc(os.environ)


def cuda_include_dir() -> Path:
    """CUDA's include directory (the one nvcc adds with -I)."""
    return Path(nvcc_path()).resolve().parent.parent / "include"


def host_cxx() -> str:
    return os.environ.get("CXX") or "c++"


def oracle_command(lang: Lang, args: Sequence[str], source: Path) -> list[str]:
    """The contract's oracle command line for a TU, without the -M."""
    if lang == "cu":
        return [nvcc_path(), *NVCC_CU_FLAGS, *args, str(source)]
    return [host_cxx(), *CXX_FLAGS, *args, str(source)]


def oracle_dependencies(lang: Lang, args: Sequence[str], source: Path) -> list[Path]:
    """Every file the real compiler reads for SOURCE (`nvcc -M` / `c++ -M`), normalised absolute paths."""
    cmd = oracle_command(lang, args, source)
    cmd.insert(1, "-M")
    done = run(cmd, what=f"{'nvcc' if lang == 'cu' else 'c++'} -M of {source.name}", timeout=600)
    deps = parse_depfile(done.output)
    return sorted({normalized(p) for p in deps})


def parse_depfile(text: str) -> list[str]:
    """The prerequisites of a make rule as written by `-M` (continuations, escaped spaces, `$$`)."""
    joined = re.sub(r"\\\r?\n", " ", text)
    deps: list[str] = []
    for line in joined.splitlines():
        # The rule line is "target(s) : prereqs"; a drive-letter colon never occurs on Linux.
        m = re.match(r"^(?:[^:\\]|\\.)*?\s*:(?:\s|$)", line)
        if not m:
            continue
        rest = line[m.end():]
        for tok in re.findall(r"(?:\\.|[^\s\\])+", rest):
            deps.append(re.sub(r"\\(.)", r"\1", tok).replace("$$", "$"))
    return deps


def passes(lang: Lang, args: Sequence[str], source: Path) -> tuple[PreprocessPass, ...]:
    """The preprocessor passes the oracle runs for SOURCE: host + device for `cu`, one for `cxx`.

    The passes do not depend on which file is compiled, so they are asked once per argument list
    (nvcc's dry run names a placeholder source, which it does not open).
    """
    del source
    return _passes(lang, tuple(args))


_PLACEHOLDER = "vendor_slim_placeholder_source.cu"


@functools.lru_cache(maxsize=256)
def _passes(lang: Lang, args: tuple[str, ...]) -> tuple[PreprocessPass, ...]:
    if lang == "cxx":
        return (_replay(shlex.join([host_cxx(), *CXX_FLAGS, *args, "-E", _PLACEHOLDER]), "cxx", _PLACEHOLDER),)
    cmd = [nvcc_path(), "--dryrun", "-M", *NVCC_CU_FLAGS, *args, _PLACEHOLDER]
    done = run(cmd, what="nvcc --dryrun", timeout=120)
    found: list[PreprocessPass] = []
    for line in done.output.splitlines():
        if not line.startswith("#$ "):
            continue
        body = line[3:].strip()
        if re.match(r"^[A-Za-z_][A-Za-z_0-9]*=", body):
            continue  # an environment assignment nvcc prints for the record
        words = shlex.split(body)
        if not words or "-E" not in words:
            continue
        arch = re.search(r"-D__CUDA_ARCH__=(\d+)", body)
        name = f"device-{arch.group(1)}" if arch else "host"
        found.append(_replay(body, name, _PLACEHOLDER))
    if not found:
        raise ExternalToolError(
            "nvcc --dryrun printed no preprocessor command to replay",
            command=cmd, returncode=done.returncode, output=done.output,
        )
    return tuple(found)


def _replay(command: str, name: str, source: str) -> PreprocessPass:
    """Split one host-compiler -E command into macro, include and dialect parts."""
    words = shlex.split(command)
    compiler, rest = words[0], words[1:]
    dialect: list[str] = []
    macro_flags: list[str] = []
    include_flags: list[str] = []
    forced: list[str] = []
    i = 0
    while i < len(rest):
        w = rest[i]
        nxt = rest[i + 1] if i + 1 < len(rest) else ""
        if w in _INCLUDE_OPTS:
            include_flags += [w, nxt]
            i += 2
            continue
        if w in _MACRO_OPTS:
            macro_flags.append(w + nxt)
            i += 2
            continue
        if w == "-include":
            forced.append(nxt)
            i += 2
            continue
        if w in _DROP_WITH_ARG:
            i += 2
            continue
        i += 1
        if w in _DROP or w == source:
            continue
        if w.startswith(("-D", "-U")):
            macro_flags.append(w)
        elif w.startswith("-I"):
            include_flags += ["-I", w[2:]]
        elif w.startswith("-"):
            dialect.append(w)
        # anything else is an input file nvcc named (only the source here)
    macros = _macros(compiler, tuple(dialect), tuple(macro_flags))
    sysdirs, predef = _builtin_includes(compiler, tuple(dialect))
    return PreprocessPass(
        name=name,
        compiler=compiler,
        dialect=tuple(dialect),
        macros=macros,
        include_flags=tuple(include_flags),
        system_dirs=sysdirs,
        forced_includes=(*predef, *forced),
    )


_DEFINE = re.compile(r"^#define ([A-Za-z_][A-Za-z_0-9]*(?:\([^)]*\))?)(?: (.*))?$")


@functools.lru_cache(maxsize=64)
def _macros(
    compiler: str, dialect: tuple[str, ...], macro_flags: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """The pass's predefined macros, asked from its compiler (-dM on an empty C++ file)."""
    done = run(
        [compiler, *dialect, *macro_flags, "-x", "c++", "-dM", "-E", os.devnull],
        what=f"{compiler} -dM (predefined macros)", timeout=60,
    )
    out: list[tuple[str, str]] = []
    for line in done.output.splitlines():
        m = _DEFINE.match(line)
        if m:
            out.append((m.group(1), m.group(2) or ""))
    return tuple(sorted(out))


@functools.lru_cache(maxsize=16)
def _builtin_includes(compiler: str, dialect: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The compiler's built-in <...> search dirs (in order) and the files it pre-includes (stdc-predef.h)."""
    done = run([compiler, *dialect, "-x", "c++", "-E", "-v", os.devnull], what=f"{compiler} -v", timeout=60)
    dirs: list[str] = []
    inside = False
    for line in done.output.splitlines():
        if line.startswith("#include <...> search starts here"):
            inside = True
        elif line.startswith("End of search list"):
            inside = False
        elif inside and line.startswith(" "):
            dirs.append(os.path.normpath(line.strip().removesuffix(" (framework directory)")))
    deps = run([compiler, *dialect, "-x", "c++", "-M", os.devnull], what=f"{compiler} -M", timeout=60)
    predef = tuple(d for d in parse_depfile(deps.output) if d != os.devnull)
    return tuple(dirs), predef


def undefined_builtins(pp: PreprocessPass, names: Sequence[str]) -> tuple[str, ...]:
    """Those of NAMES that the pass's compiler does not define (so a replaying front end must #undef them)."""
    return _undefined_builtins(pp.compiler, pp.dialect, tuple(names))


@functools.lru_cache(maxsize=16)
def _undefined_builtins(compiler: str, dialect: tuple[str, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    probe = "".join(f"#ifndef {n}\nundefined {n}\n#endif\n" for n in names)
    src = Path(tempfile.mkdtemp(prefix="vendor-slim-probe-")) / "probe.cpp"
    try:
        src.write_text(probe)
        done = run([compiler, *dialect, "-x", "c++", "-E", "-P", str(src)],
                   what=f"{compiler} -E (probe)", timeout=60)
    finally:
        shutil.rmtree(src.parent, ignore_errors=True)
    return tuple(sorted(re.findall(r"^undefined (\S+)$", done.output, flags=re.M)))
