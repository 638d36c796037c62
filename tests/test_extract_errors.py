"""extract on bad input (issue 6): the contract's exit code, one message naming the path (and the
include chain where there is one), no traceback, and nothing created or changed at --out.

Every case builds its own small synthetic tree (tests/synth.py); the module shares one cache, so
only the first extract runs the generator and parses cold."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import NEEDS_PERMISSIONS, Result, error_text, no_traceback, permission_prefix, run_cli
from tests.synth import make_extract_tree

TIMEOUT = 120  # a hang (an include cycle that never ends) fails the test instead of CI


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ROOT (links not followed) with its size, mtime and mode."""
    out: dict[str, tuple[int, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def extract(up: Path, out: Path, cache: Path, *extra: str | Path, rules: Path | None = None,
            prefix: list[str] | None = None) -> Result:
    return run_cli("extract", "--trtllm", up, "--rules", rules or up / "rules.toml", "--out", out, "--jobs", "1",
                   *extra, cache=cache, prefix=prefix or [], timeout=TIMEOUT)


def assert_refused(r: Result, out: Path, *needles: str) -> None:
    """Exit 2, one error naming what is wrong, no traceback, nothing at --out or beside it."""
    assert r.code == 2, (r.code, r.err, r.out)
    assert no_traceback(r), r.err
    err = error_text(r)
    assert err.startswith("vendor-slim: error: ") and err.count("vendor-slim: error:") == 1, r.err
    for n in needles:
        assert n in r.err, (n, r.err)
    assert not os.path.lexists(out), f"{out} was created"
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".vendor-slim-")]


def add_include(up: Path, rel: str, text: str) -> None:
    p = up / "cpp" / rel
    p.write_text(p.read_text() + text)


def chain_lines(err: str) -> list[str]:
    assert "include chain:" in err, err
    return [ln.strip() for ln in err.split("include chain:", 1)[1].strip().splitlines()]


# ---------------------------------------------------------------------------------------------
# Headers


def test_missing_header(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    add_include(up, "syn/types.h", '#include "syn/nope.h"\n')
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert_refused(r, out, "header 'syn/nope.h' included at", f"{up}/cpp/syn/types.h:7", "does not exist")
    chain = chain_lines(r.err)
    assert chain[0].endswith("syn/runner_a.cu") and chain[-2] == f"{up}/cpp/syn/types.h"
    assert chain[-1] == "syn/nope.h (not found)"


def test_missing_header_with_debug_shows_the_traceback(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    add_include(up, "syn/types.h", '#include "syn/nope.h"\n')
    out = tmp_path / "o"
    r = run_cli("--debug", "extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", out, cache=cache,
                timeout=TIMEOUT)
    assert r.code != 0 and "Traceback" in r.err and "BadInput" in r.err and "syn/nope.h" in r.err
    assert not os.path.lexists(out)


def test_unreadable_header(tmp_path: Path, cache: Path) -> None:
    prefix = permission_prefix()
    if prefix is None:
        pytest.skip(NEEDS_PERMISSIONS)
    up = make_extract_tree(tmp_path / "up")
    locked = up / "cpp/syn/locked.h"
    locked.write_text("#pragma once\n")
    add_include(up, "syn/types.h", '#include "syn/locked.h"\n')
    locked.chmod(0)
    out = tmp_path / "o"
    try:
        r = extract(up, out, cache, prefix=prefix)
    finally:
        locked.chmod(0o644)
    assert_refused(r, out, "header 'syn/locked.h' included at", "cannot be read: permission denied", str(locked))
    assert chain_lines(r.err)[-1] == "syn/locked.h (unreadable)"


def test_unreadable_translation_unit(tmp_path: Path, cache: Path) -> None:
    prefix = permission_prefix()
    if prefix is None:
        pytest.skip(NEEDS_PERMISSIONS)
    up = make_extract_tree(tmp_path / "up")
    tu = up / "cpp/syn/runner_a.cu"
    tu.chmod(0)
    out = tmp_path / "o"
    try:
        r = extract(up, out, cache, prefix=prefix)
    finally:
        tu.chmod(0o644)
    assert_refused(r, out, str(tu), "cannot be read")


def test_unreadable_license(tmp_path: Path, cache: Path) -> None:
    """Read only when the tree is planned: still a message, not an internal error."""
    prefix = permission_prefix()
    if prefix is None:
        pytest.skip(NEEDS_PERMISSIONS)
    up = make_extract_tree(tmp_path / "up")
    lic = up / "LICENSE"
    lic.chmod(0)
    out = tmp_path / "o"
    try:
        r = extract(up, out, cache, prefix=prefix)
    finally:
        lic.chmod(0o644)
    assert_refused(r, out, f"{lic} cannot be read: permission denied")


def test_case_mismatched_include(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    if (up / "cpp/Syn/Log.h").exists():
        pytest.skip("case-insensitive file system: Syn/Log.h names syn/log.h here, as it does for nvcc")
    inl = up / "cpp/syn/launcher.inl"
    inl.write_text(inl.read_text().replace('#include "syn/log.h"', '#include "Syn/Log.h"'))
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert_refused(r, out, "header 'Syn/Log.h' included at", f"{inl}:3", "does not exist")
    chain = chain_lines(r.err)
    assert chain[-2:] == [str(inl), "Syn/Log.h (not found)"]


def test_include_cycle_with_pragma_once_is_fine(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    (up / "cpp/syn/cyc_a.h").write_text('#pragma once\n#include "syn/cyc_b.h"\n')
    (up / "cpp/syn/cyc_b.h").write_text('#pragma once\n#include "syn/cyc_a.h"\n')
    add_include(up, "syn/types.h", '#include "syn/cyc_a.h"\n')
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert r.code == 0, r.err
    assert (out / "third_party/tensorrt_llm/syn/cyc_a.h").is_file()
    assert (out / "third_party/tensorrt_llm/syn/cyc_b.h").is_file()


def test_include_cycle_without_guards(tmp_path: Path, cache: Path) -> None:
    """nvcc stops with '#include nested too deeply'; the tool terminates and says where the cycle is."""
    up = make_extract_tree(tmp_path / "up")
    a, b = up / "cpp/syn/cyc_a.h", up / "cpp/syn/cyc_b.h"
    a.write_text('#include "syn/cyc_b.h"\n')
    b.write_text('#include "syn/cyc_a.h"\n')
    add_include(up, "syn/types.h", '#include "syn/cyc_a.h"\n')
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert_refused(r, out, "nested too deeply", "include cycle without include guards")
    assert f"{a} -> {b} -> {a}" in r.err or f"{b} -> {a} -> {b}" in r.err
    assert f"{up}/cpp/syn/types.h" in chain_lines(r.err)


def test_macro_include_naming_a_missing_header(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    add_include(up, "syn/types.h", '#define SYN_HDR "syn/nope_macro.h"\n#include SYN_HDR\n')
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert_refused(r, out, "header 'syn/nope_macro.h' included at", f"{up}/cpp/syn/types.h:8", "does not exist")
    assert chain_lines(r.err)[-1] == "syn/nope_macro.h (not found)"


def test_macro_include_that_names_no_header(tmp_path: Path, cache: Path) -> None:
    """`#include MACRO` with MACRO undefined: nvcc fails; the tool must not silently drop the line."""
    up = make_extract_tree(tmp_path / "up")
    add_include(up, "syn/types.h", "#include SYN_UNDEFINED_HEADER_MACRO\n")
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert_refused(r, out, "'SYN_UNDEFINED_HEADER_MACRO'", f"{up}/cpp/syn/types.h:7", "does not name a header")
    assert chain_lines(r.err)[-1] == "SYN_UNDEFINED_HEADER_MACRO (not a header name)"


# ---------------------------------------------------------------------------------------------
# --out


def test_out_in_read_only_directory(tmp_path: Path, cache: Path) -> None:
    prefix = permission_prefix()
    if prefix is None:
        pytest.skip(NEEDS_PERMISSIONS)
    up = make_extract_tree(tmp_path / "up")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = extract(up, ro / "o", cache, prefix=prefix)
        r2 = extract(up, ro / "deeper" / "o", cache, prefix=prefix)
        left = sorted(os.listdir(ro))
    finally:
        ro.chmod(0o755)
    assert_refused(r, ro / "o", f"--out {ro / 'o'}: cannot write into {ro}: permission denied")
    assert r2.code == 2 and no_traceback(r2), r2.err
    assert f"--out {ro / 'deeper' / 'o'}: cannot create {ro / 'deeper'}: permission denied" in r2.err
    assert left == []


def test_out_unreadable_directory(tmp_path: Path, cache: Path) -> None:
    prefix = permission_prefix()
    if prefix is None:
        pytest.skip(NEEDS_PERMISSIONS)
    up = make_extract_tree(tmp_path / "up")
    out = tmp_path / "locked"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    out.chmod(0)
    try:
        r = extract(up, out, cache, "--force", prefix=prefix)
    finally:
        out.chmod(0o755)
    assert r.code == 2 and no_traceback(r), r.err
    # click's own check of the option comes first
    assert f"Invalid value for '--out': Path '{out}' is not readable" in r.err
    assert (out / "mine.txt").read_text() == "x"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (a location no user may write)")
def test_out_in_proc(tmp_path: Path, cache: Path) -> None:
    """A location that even root cannot write (so this case runs everywhere on Linux)."""
    up = make_extract_tree(tmp_path / "up")
    r = extract(up, Path("/proc/self/vendor-slim-out"), cache)
    assert r.code == 2 and no_traceback(r), r.err
    assert "cannot write into /proc/self" in r.err
    assert not os.path.lexists("/proc/self/vendor-slim-out")


def test_out_containing_the_source_tree(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "work" / "up")
    out = tmp_path / "work"
    before = snapshot(out)
    r = extract(up, out, cache, "--force")
    assert r.code == 2 and no_traceback(r), r.err
    assert f"--out {out} contains the source tree {up}" in r.err
    assert snapshot(out) == before


@pytest.mark.parametrize("force", [False, True])
def test_out_non_empty_directory_that_is_not_a_tree(tmp_path: Path, cache: Path, force: bool) -> None:
    """A folder of the user's own files: refused, with or without --force, and left as it was."""
    up = make_extract_tree(tmp_path / "up")
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes\n")
    (out / "sub" / "data.bin").write_bytes(b"\0\1\2")
    before = snapshot(out)
    r = extract(up, out, cache, *(["--force"] if force else []))
    assert r.code == 2 and no_traceback(r), r.err
    assert f"--out {out} is a non-empty directory that vendor-slim did not write" in r.err
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".vendor-slim-")]


def test_out_with_foreign_lock_is_not_a_tree(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "vendor.lock.json").write_text(json.dumps({"tool": {"name": "something-else"}}))
    before = snapshot(out)
    r = extract(up, out, cache, "--force")
    assert r.code == 2 and "did not write" in r.err and snapshot(out) == before


def test_out_empty_directory_is_used(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    out = tmp_path / "empty"
    out.mkdir()
    r = extract(up, out, cache)
    assert r.code == 0, r.err
    assert (out / "vendor.lock.json").is_file()


# ---------------------------------------------------------------------------------------------
# Rules files: validated before anything is written


_SYN_RULES_BAD = {
    "unknown key": (lambda t: t.replace("[select]", "[select]\nact_types = ['half']"),
                    "select.act_types: unknown key"),
    "wrong type": (lambda t: t.replace('cuda_arch = "90a"', "cuda_arch = 90"),
                   "target.cuda_arch: expected string, got int"),
    "unknown quant op": (lambda t: t.replace("[quant_ops.pc]", "[quant_ops.int3]"),
                         "quant_ops.int3: unknown quant op"),
    "invalid toml": (lambda t: t.replace("[target]", "[target"), "is not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(_SYN_RULES_BAD))
def test_bad_rules_write_nothing(tmp_path: Path, cache: Path, case: str) -> None:
    up = make_extract_tree(tmp_path / "up")
    edit, needle = _SYN_RULES_BAD[case]
    rules = tmp_path / "bad.toml"
    rules.write_text(edit((up / "rules.toml").read_text()))
    shutil.copytree(up / "templates", tmp_path / "templates")  # beside the rules, as the rules expect
    out = tmp_path / "o"
    before = snapshot(up)
    r = extract(up, out, cache, rules=rules)
    assert_refused(r, out, f"invalid rules file {rules}" if case != "invalid toml" else str(rules), needle)
    assert snapshot(up) == before


# ---------------------------------------------------------------------------------------------
# Paths from the rules file that would leave the tree


def _no_config_include(up: Path) -> None:
    """The API source without its config header include, so that analysis gets as far as writing."""
    api = up / "templates/src/synapi.cu"
    api.write_text(api.read_text().replace('#include "synapi/config.h"\n', ""))


def test_rules_path_leaving_out_is_refused(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    _no_config_include(up)
    rules = up / "rules.toml"
    rules.write_text(rules.read_text().replace('config_header = "include/synapi/config.h"',
                                               'config_header = "../escaped.h"'))
    out = tmp_path / "o"
    r = extract(up, out, cache)
    assert_refused(r, out, "'../escaped.h'", "not a plain relative path")
    assert not (tmp_path / "escaped.h").exists()


def test_rules_path_leaving_the_cache_is_refused_before_writing(tmp_path: Path, cache: Path) -> None:
    up = make_extract_tree(tmp_path / "up")
    _no_config_include(up)
    outside = tmp_path / "outside" / "evil.h"
    rules = up / "rules.toml"
    rules.write_text(rules.read_text().replace('config_header = "include/synapi/config.h"',
                                               f'config_header = "{outside}"'))
    r = extract(up, tmp_path / "o", cache)
    assert r.code == 2 and no_traceback(r)
    assert not outside.exists(), f"the rules file made extract write {outside}"
