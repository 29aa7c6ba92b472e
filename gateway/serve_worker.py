"""The app of one `helhed serve --workers N` worker, built in the worker's own process.

uvicorn starts each worker as a fresh process and calls `worker_app` there, so each has its own
settings (its own `instance`, host:pid), engine, connection pool, group committer and scheduler;
the parent has checked the configuration and upgraded the database before starting any.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from gateway.app import create_app
from gateway.ops.heap import settle_after_start_up
from gateway.runtime import build_runtime
from gateway.settings import load_settings

# How the parent hands the worker its configuration file ("" when there is none).
CONFIG_ENV = "HELHED_SERVE_CONFIG"


def worker_app() -> FastAPI:
    config = os.environ.get(CONFIG_ENV) or None
    app = create_app(build_runtime(load_settings(Path(config) if config else None)))
    settle_after_start_up()
    return app
