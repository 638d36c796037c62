"""Where the real trees come from (never committed here): `python -m tests.corpora c1` prints C1's path.

C1 (the FlashInfer 0.7.2.post1 wheel) is downloaded from PyPI once into the cache and unpacked; the
tests' fixtures and .ci/run call the same function.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

C1_VERSION = "0.7.2.post1"


def cache_root() -> Path:
    base = os.environ.get("VENDOR_SLIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vendor-slim"
    )
    return Path(base)


def ensure_c1() -> Path:
    """The unpacked `flashinfer/` folder of the wheel (VENDOR_SLIM_C1 when set); downloads it on first use."""
    env = os.environ.get("VENDOR_SLIM_C1")
    if env:
        return Path(env)
    dest = cache_root() / "corpora" / f"flashinfer-{C1_VERSION}"
    done = dest / ".complete"
    if not done.exists():
        dl = dest.parent / f"flashinfer-{C1_VERSION}-download"
        dl.mkdir(parents=True, exist_ok=True)
        wheels = list(dl.glob("flashinfer_python-*.whl"))
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", f"flashinfer-python=={C1_VERSION}",
                 "-d", str(dl)],
                check=True, stdout=sys.stderr,
            )
            wheels = list(dl.glob("flashinfer_python-*.whl"))
        with zipfile.ZipFile(wheels[0]) as zf:
            members = [m for m in zf.namelist() if m.startswith("flashinfer/")]
            zf.extractall(dest, members)
        done.write_text("ok\n")
    return dest / "flashinfer"


def main(argv: list[str]) -> int:
    if argv != ["c1"]:
        print("usage: python -m tests.corpora c1   (prints the unpacked C1 folder, downloading it once)",
              file=sys.stderr)
        return 2
    print(ensure_c1())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
