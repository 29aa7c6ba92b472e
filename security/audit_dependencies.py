"""`make audit`: pip-audit of the locked dependencies, with a reviewed allow-list.

Every package pinned in requirements.lock is looked up in a vulnerability database (PyPI's, or
an OSV API given by HELHED_AUDIT_OSV_URL, e.g. a municipality's own mirror). A finding fails
the audit unless security/audit-allowlist.toml lists its id with a reason, the date it was
listed and a date by which it must be looked at again. An allow-list entry past that date
fails the audit too: an exception is a decision with an owner, not a way to forget.

When the database cannot be reached (a machine without internet), the packages are reported
as not audited and the audit passes with a warning, unless HELHED_AUDIT_STRICT=1: an offline
build must not look audited, and must not block either. Exit codes: 0 clean, 1 a finding or a
bad allow-list, 2 not audited under strict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
ALLOWLIST = Path(
    os.environ.get("HELHED_AUDIT_ALLOWLIST", ROOT / "security" / "audit-allowlist.toml")
)


@dataclass(frozen=True)
class Allowed:
    id: str
    package: str
    reason: str
    listed: date
    review_by: date


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    ids: tuple[str, ...]
    fix_versions: tuple[str, ...]
    description: str


def read_allowlist(path: Path) -> list[Allowed]:
    """Every entry needs an id, a package, a reason and both dates; anything else is an error."""
    if not path.exists():
        return []
    entries = []
    for number, raw in enumerate(tomllib.loads(path.read_text("utf-8")).get("allow", []), 1):
        missing = [k for k in ("id", "package", "reason", "listed", "review_by") if not raw.get(k)]
        if missing:
            raise ValueError(f"{path.name} entry {number}: missing {', '.join(missing)}")
        if not all(isinstance(raw[k], date) for k in ("listed", "review_by")):
            raise ValueError(f"{path.name} entry {number}: listed and review_by are dates")
        entries.append(
            Allowed(
                id=str(raw["id"]),
                package=str(raw["package"]).lower(),
                reason=str(raw["reason"]),
                listed=raw["listed"],
                review_by=raw["review_by"],
            )
        )
    return entries


def parse_report(report: dict) -> tuple[list[Finding], list[str], int]:
    """pip-audit's JSON: the findings, the packages it could not audit, and how many it did."""
    findings, skipped, audited = [], [], 0
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped.append(dependency["name"])
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            findings.append(
                Finding(
                    package=dependency["name"].lower(),
                    version=dependency["version"],
                    ids=(vuln["id"], *vuln.get("aliases", [])),
                    fix_versions=tuple(vuln.get("fix_versions", [])),
                    description=vuln.get("description", ""),
                )
            )
    return findings, skipped, audited


def judge(
    findings: list[Finding], allowed: list[Allowed], today: date
) -> tuple[list[Finding], list[tuple[Finding, Allowed]], list[Allowed]]:
    """Split findings into failing and allowed; allow-list entries past review_by fail."""
    expired = [entry for entry in allowed if entry.review_by < today]
    current = [entry for entry in allowed if entry.review_by >= today]
    failing, excused = [], []
    for finding in findings:
        match = next(
            (e for e in current if e.package == finding.package and e.id in finding.ids), None
        )
        if match is None:
            failing.append(finding)
        else:
            excused.append((finding, match))
    return failing, excused, expired


def run_pip_audit(lock: Path) -> tuple[dict | None, str]:
    command = [
        sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--no-deps",
        "--disable-pip", "--format", "json", "--progress-spinner", "off", "--timeout", "20",
    ]  # fmt: skip
    osv_url = os.environ.get("HELHED_AUDIT_OSV_URL")
    if osv_url:
        command += ["--vulnerability-service", "osv", "--osv-url", osv_url]
    # Our own argv (the lock file path and an operator-set URL), no shell.
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        return json.loads(done.stdout), done.stderr
    except json.JSONDecodeError:
        return None, done.stderr  # pip-audit stopped before a report: the database is unreachable


def main() -> int:
    try:
        allowed = read_allowlist(ALLOWLIST)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        print(f"audit: bad allow-list: {error}")
        return 1
    report, stderr = run_pip_audit(Path(os.environ.get("HELHED_AUDIT_LOCK", LOCK)))
    strict = os.environ.get("HELHED_AUDIT_STRICT") == "1"
    if report is None:
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"audit: WARNING: the vulnerability database could not be reached ({last[0]})")
        return 2 if strict else 0
    findings, skipped, audited = parse_report(report)
    failing, excused, expired = judge(findings, allowed, date.today())
    for finding, entry in excused:
        print(f"audit: allowed {finding.package} {finding.version} {entry.id}: {entry.reason}")
    for entry in expired:
        print(
            f"audit: allow-list entry {entry.id} ({entry.package}) was due for review on "
            f"{entry.review_by}: look at it again, then fix or re-date it"
        )
    for finding in failing:
        fix = ", ".join(finding.fix_versions) or "no fixed version yet"
        print(
            f"audit: VULNERABLE {finding.package} {finding.version} {'/'.join(finding.ids)} "
            f"(fixed in: {fix}) {finding.description[:160]}"
        )
    print(
        f"audit: {audited} packages audited, {len(skipped)} not audited, "
        f"{len(findings)} findings, {len(excused)} allowed, {len(failing)} failing"
    )
    if skipped and not audited:
        print(
            "audit: WARNING: no package could be audited (the database has no entries for these "
            "versions or cannot be reached); set HELHED_AUDIT_OSV_URL to an OSV mirror"
        )
    if failing or expired:
        return 1
    return 2 if strict and skipped else 0


if __name__ == "__main__":
    sys.exit(main())
