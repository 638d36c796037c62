"""`vendor-slim compare`: the committed example results (tests/data/compare/*.example.json, hand-written,
labelled as examples) and the committed real H200 / H100 results become one table and one PNG per shape."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from vendor_slim.engine.compare import limit_us

DATA = Path(__file__).parent / "data" / "compare"
REPO = Path(__file__).parent.parent
EXAMPLES = [DATA / "trtllm.example.json", DATA / "machete.example.json"]


def vs(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vendor_slim", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and raw RGB rows of the (8-bit RGB, unfiltered) PNGs the plot adapter writes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            w, h, depth, color = struct.unpack(">IIBB", body[:10])
            assert (depth, color) == (8, 2)
            size = (w, h)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def table(md: str, title: str) -> list[list[str]]:
    """The rows of the table under `## title`."""
    part = md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in part.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows[2:]]


def test_limit_is_bytes_over_bandwidth() -> None:
    # 28672 x 8192, group 128, M=1 at 4.27 TB/s: 117.4 MB weights + 3.7 MB scales + 16 KB + 57 KB -> 28.4 us
    assert limit_us(1, 28672, 8192, 128, 4.27) == pytest.approx(121_184_256 / 4.27e12 * 1e6)
    assert 28.3 < limit_us(1, 28672, 8192, 128, 4.27) < 28.5


def test_compare_two_trees_renders_table_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    r = vs("compare", *EXAMPLES, "-o", out)
    assert r.returncode == 0, r.stderr
    md = (out / "compare.md").read_text()
    assert md == r.stdout
    assert "**EXAMPLE DATA**" in md
    rows = table(md, "N = 28672, K = 8192 (group 128)")
    head = [c.strip() for c in md.split("## N = 28672, K = 8192")[1].splitlines()[4].strip("|").split("|")]
    assert head[:4] == ["M", "trtllm µs", "machete µs", "fastest"]
    by_m = {int(r[0]): r for r in rows}
    assert sorted(by_m) == [1, 4, 16, 64, 4096]
    # M=1: the TensorRT-LLM GEMV (48.4) beats its CUTLASS path (60.1) and Machete (55.8)
    assert by_m[1][1:4] == ["48.4", "55.8", "trtllm"]
    assert by_m[16][1:4] == ["96.2", "55.7", "machete"]
    # no bundle: the fraction of the limit and the cuBLAS ratio are those of the fastest backend
    assert "% of limit (fastest)" in head
    assert by_m[1][head.index("limit µs")] == "28.4"
    assert by_m[1][head.index("% of limit (fastest)")] == f"{100 * 28.38 / 48.4:.0f} %"
    assert by_m[16][head.index("PyTorch int4 µs")] == "266.9"
    assert by_m[1][head.index("x cuBLAS (fastest)")] == f"{114.2 / 48.4:.2f}"

    doc = json.loads((out / "compare.json").read_text())
    assert doc["series"] == ["trtllm", "machete"] and doc["example"] is True
    assert [(s["n"], s["k"]) for s in doc["shapes"]] == [(8192, 28672), (28672, 8192)]
    for sh in doc["shapes"]:
        w, h, raw = png_pixels(out / sh["plot"])
        assert (w, h) == (1100, 640)
        stride = 1 + 3 * w
        pixels = {raw[y * stride + 1 + 3 * x:y * stride + 4 + 3 * x] for y in range(0, h, 3) for x in range(0, w, 3)}
        assert bytes((31, 119, 180)) in pixels and bytes((214, 39, 40)) in pixels  # both backends drawn
    # the same inputs give the same bytes
    again = tmp_path / "again"
    assert vs("compare", *EXAMPLES, "-o", again).returncode == 0
    for f in out.iterdir():
        assert (again / f.name).read_bytes() == f.read_bytes()


def test_compare_with_a_bundle_shows_its_choice(tmp_path: Path) -> None:
    r = vs("compare", DATA / "bundle.example.json", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    md = r.stdout
    head = [c.strip() for c in md.split("## N = 28672, K = 8192")[1].splitlines()[4].strip("|").split("|")]
    assert head[1:3] == ["machete (bundle) µs", "trtllm (bundle) µs"]
    by_m = {int(row[0]): row for row in table(md, "N = 28672, K = 8192 (group 128)")}
    assert by_m[1][head.index("bundle µs (choice)")] == "48.9 (trtllm:gemv)"
    assert by_m[1][head.index("bundle / fastest")] == f"{48.9 / 48.4:.3f}"
    assert by_m[16][head.index("% of limit (bundle)")] == f"{100 * limit_us(16, 28672, 8192, 128, 4.27) / 56.3:.0f} %"
    assert len(list(tmp_path.glob("compare-n*-k*.png"))) == 2


def test_compare_real_results_without_bandwidth(tmp_path: Path) -> None:
    """The H200 and H100 runs committed under docs/results predate hbm_copy_tbps: no limit, and a note."""
    a, b = REPO / "docs/results/h200-c2-all", REPO / "docs/results/h100-c2-all-gemv/results.json"
    r = vs("compare", a, b)
    assert r.returncode == 0, r.stderr
    assert "no results carry hbm_copy_tbps" in r.stdout and "different GPUs" in r.stdout
    assert "trtllm [h200-c2-all] µs" in r.stdout and "trtllm [h100-c2-all-gemv] µs" in r.stdout
    assert "EXAMPLE" not in r.stdout


@pytest.mark.parametrize(("content", "message"), [
    ("{", ":1: not JSON"),
    ('{"bench": []}', "no 'bench' rows"),
    ('{"bench": [{"m": 1, "n": 64}]}', "bench row 1: 'k' must be a positive integer"),
])
def test_compare_bad_input_exits_2(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "out"
    r = vs("compare", EXAMPLES[0], bad, "-o", out)
    assert r.returncode == 2
    assert f"vendor-slim: error: {bad}" in r.stderr and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()  # nothing written when an input is bad


def test_compare_missing_file_exits_2(tmp_path: Path) -> None:
    r = vs("compare", tmp_path / "absent.json")
    assert r.returncode == 2 and "cannot read" in r.stderr
