#!/usr/bin/env python3
"""Downloads the vLLM 0.12.0 sdist through pip's own index configuration and package finder.

`pip download --no-binary :all: vllm==0.12.0` fails (metadata preparation needs torch); pip's finder
locates the file on whatever index pip is configured for, naming no host here.
usage: get_sdist.py DEST_DIR
"""
import hashlib
import sys
from pathlib import Path

from pip._internal.commands import create_command


def main() -> None:
    dest = Path(sys.argv[1])
    cmd = create_command("download")
    opts, _ = cmd.parse_args(["--no-deps", "--no-binary", ":all:", "vllm==0.12.0"])
    with cmd.main_context():
        session = cmd.get_default_session(opts)
        finder = cmd._build_package_finder(options=opts, session=session, target_python=None,
                                           ignore_requires_python=True)
        cand = next(c for c in finder.find_all_candidates("vllm")
                    if str(c.version) == "0.12.0" and c.link.filename.endswith(".tar.gz"))
        r = session.get(cand.link.url_without_fragment)
        r.raise_for_status()
    (dest / cand.link.filename).write_bytes(r.content)
    print(cand.link.filename, len(r.content), hashlib.sha256(r.content).hexdigest())


if __name__ == "__main__":
    main()
