"""Start `helhed serve` processes quickly: import the gateway once, then fork a child per start.

On a busy two-core machine a fresh interpreter spends seconds importing FastAPI, SQLAlchemy and
the rest; ten kills per backend would spend most of the test's time there. The zygote pays the
imports once and forks: each child runs exactly what `helhed serve --config FILE --port N`
runs, in a process of its own that the test SIGKILLs. No thread runs before the fork (nothing
is started at import time), so the children start clean.

Protocol on stdin/stdout, one line each: `serve CONFIG PORT LOGFILE` -> the child's pid.
"""

from __future__ import annotations

import os
import signal
import sys


def _serve(config: str, port: str, log_file: str) -> None:
    """In the child: the CLI's own `serve`, with stdout and stderr into the log file."""
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    from gateway.cli import app

    try:
        app(["serve", "--config", config, "--port", port], standalone_mode=False)
    finally:
        os._exit(0)


def main() -> None:
    import gateway.app
    import gateway.cli  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command != "serve":
            continue
        pid = os.fork()
        if pid == 0:
            sys.stdin.close()
            _serve(*args)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
