"""Print the URL of a PostgreSQL server the tests may use, starting the local one if it is down.

`make test` runs this when HELHED_TEST_POSTGRES_URL is not set; it prints nothing (and the
PostgreSQL tests are skipped) only when no server can be found or started.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time

import psycopg

CANDIDATE = "postgresql://postgres@127.0.0.1:5432/test"


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def start_local_cluster() -> None:
    versions = [os.path.basename(p) for p in glob.glob("/etc/postgresql/*")]
    if not versions or shutil.which("pg_ctlcluster") is None:
        return
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"],
        check=False,
        capture_output=True,
        timeout=60,
    )


def main() -> None:
    if answers(CANDIDATE):
        print(CANDIDATE)
        return
    start_local_cluster()
    for _ in range(20):
        if answers(CANDIDATE):
            print(CANDIDATE)
            return
        time.sleep(0.5)


if __name__ == "__main__":
    main()
