"""`make audit` runs the real pip-audit against a vulnerability database; here that database is
an OSV API on loopback that knows one advisory, so a finding, an allow-listed finding, an
expired exception and a bad allow-list each show what CI would do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADVISORY = {
    "id": "GHSA-hh00-test-0001",
    "aliases": ["CVE-2026-99999"],
    "summary": "Crafted expressions exhaust memory",
    "affected": [
        {
            "package": {"name": "jmespath", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}],
        }
    ],
}


class _Osv(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = {"vulns": [ADVISORY]} if query["package"]["name"] == "jmespath" else {}
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def osv_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()
    server.server_close()


def audit(
    tmp_path: Path, osv_url: str, allowlist: str = "", **more_env: str
) -> subprocess.CompletedProcess[str]:
    lock = tmp_path / "requirements.lock"
    lock.write_text("jmespath==1.0.1\nidna==3.10\n")
    (tmp_path / "allow.toml").write_text(allowlist)
    env = {
        **os.environ,
        "HELHED_AUDIT_OSV_URL": osv_url,
        "HELHED_AUDIT_LOCK": str(lock),
        "HELHED_AUDIT_ALLOWLIST": str(tmp_path / "allow.toml"),
        **more_env,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "security" / "audit_dependencies.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def entry(review_by: date, reason: str = "Helhed compiles only its own fixed expressions") -> str:
    return (
        f'[[allow]]\nid = "CVE-2026-99999"\npackage = "jmespath"\nreason = "{reason}"\n'
        f"listed = {date.today().isoformat()}\nreview_by = {review_by.isoformat()}\n"
    )


def test_a_finding_fails_the_audit_and_names_the_package_and_the_fix(tmp_path, osv_url):
    done = audit(tmp_path, osv_url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "VULNERABLE jmespath 1.0.1" in done.stdout
    assert "GHSA-hh00-test-0001" in done.stdout
    assert "CVE-2026-99999" in done.stdout
    assert "fixed in: 9.9" in done.stdout
    assert "2 packages audited, 0 not audited, 1 findings, 0 allowed, 1 failing" in done.stdout


def test_a_listed_finding_passes_with_its_reason_printed(tmp_path, osv_url):
    done = audit(tmp_path, osv_url, entry(date.today() + timedelta(days=30)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "allowed jmespath 1.0.1 CVE-2026-99999: Helhed compiles only" in done.stdout


def test_an_exception_past_its_review_date_fails_again(tmp_path, osv_url):
    done = audit(tmp_path, osv_url, entry(date.today() - timedelta(days=1)))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "was due for review" in done.stdout
    assert "VULNERABLE jmespath" in done.stdout


def test_an_exception_without_a_reason_is_refused(tmp_path, osv_url):
    done = audit(tmp_path, osv_url, entry(date.today() + timedelta(days=30), reason=""))
    assert done.returncode == 1
    assert "bad allow-list" in done.stdout
    assert "missing reason" in done.stdout


def test_an_unreachable_database_is_never_reported_as_clean_under_strict(tmp_path):
    dead = "http://127.0.0.1:9/v1/query"  # the discard port: nothing listens
    done = audit(tmp_path, dead)
    assert done.returncode == 0
    assert "could not be reached" in done.stdout or "not audited" in done.stdout
    strict = audit(tmp_path, dead, HELHED_AUDIT_STRICT="1")
    assert strict.returncode == 2, strict.stdout
