"""`make fuzz`: schemathesis against a running demo, as every role and without a token.

Fails when any generated request gets a 5xx. Not part of `make test` (it takes minutes); run it
after changing request models or routes. Usage: .venv/bin/python tests/fuzz_api.py [examples]
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROLES = ("CHILDREN_FAMILY", "DPO", "ITOPS", "CITIZEN", None)


def main() -> int:
    examples = sys.argv[1] if len(sys.argv) > 1 else "60"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "HELHED_HOME": home,
            # Fuzzing sends thousands of views: lift the per-user abuse limits.
            "HELHED_VIEWS_PER_MINUTE": "1000000",
            "HELHED_DISTINCT_CITIZENS_ALERT": "1000000",
        }
        demo = subprocess.Popen(
            [sys.executable, "-m", "gateway", "demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if (
                        httpx.get(f"{url}/ready").status_code == 200
                        and (Path(home) / "demo-tokens.env").exists()
                    ):
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            text = (Path(home) / "demo-tokens.env").read_text(encoding="utf-8")
            tokens = dict(re.findall(r"^export (\w+)=(.+)$", text, flags=re.MULTILINE))
            failed = False
            for role in ROLES:
                token = tokens[f"TOKEN_{role}"] if role else "none"
                print(f"== {role or 'no token'}", flush=True)
                result = subprocess.run(
                    [
                        str(Path(sys.executable).parent / "schemathesis"),
                        "run",
                        f"{url}/openapi.json",
                        "--checks",
                        "not_a_server_error",
                        "--max-examples",
                        examples,
                        "--header",
                        f"Authorization: Bearer {token}",
                    ],
                    check=False,
                )
                failed |= result.returncode != 0
            return 1 if failed else 0
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
