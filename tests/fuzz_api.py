"""`make fuzz-demo`: schemathesis's own runner against `helhed demo`, as every demo user and
without a token, with the demo's consents in place.

Fails when any generated request gets a 5xx or an answer the OpenAPI document does not declare
(status code, content type, body schema). Not part of `make test` (it takes minutes); the
bounded in-suite run is tests/attack/test_api_fuzz.py. Records its counts for `make fuzz`'s
summary. Usage: .venv/bin/python -m tests.fuzz_api [examples per operation]
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

from tests.fuzz_summary import record

ROLES = ("CHILDREN_FAMILY", "JOBCENTER", "ADULT_SOCIAL", "HEALTH", "DPO", "ITOPS", "CITIZEN", None)
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
_GENERATED = re.compile(r"(\d+) generated")


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
            operations = len(
                [
                    op
                    for ops in httpx.get(f"{url}/openapi.json").json()["paths"].values()
                    for op in ops
                ]
            )
            failed = False
            for role in ROLES:
                token = tokens[f"TOKEN_{role}"] if role else "none"
                print(f"== {role or 'no token'}", flush=True)
                # Its own working folder: schemathesis keeps a cache of failures where it runs.
                result = subprocess.run(
                    [
                        str(Path(sys.executable).parent / "schemathesis"),
                        "run",
                        f"{url}/openapi.json",
                        "--checks",
                        CHECKS,
                        "--max-examples",
                        examples,
                        "--header",
                        f"Authorization: Bearer {token}",
                    ],
                    check=False,
                    cwd=home,
                    capture_output=True,
                    text=True,
                )
                print(result.stdout[-4000:], result.stderr[-2000:], flush=True)
                generated = _GENERATED.findall(result.stdout)
                record(
                    "demo (schemathesis run)",
                    examples=int(generated[-1]) if generated else 0,
                    failures=int(result.returncode != 0),
                    operations=operations,
                    kind=role or "no token",
                    tests=1,
                )
                failed |= result.returncode != 0
            return 1 if failed else 0
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
