"""The FastAPI application: it only wires routers, handlers and middleware together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from gateway.access_log import lifecycle as access_log
from gateway.access_log.router import router as audit_router
from gateway.consents.exports import router as consent_exports_router
from gateway.consents.router import router as consents_router
from gateway.errors import install_error_handlers
from gateway.jobs import JOBS
from gateway.logging_setup import install_cpr_redaction
from gateway.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from gateway.ops.router import router as ops_router
from gateway.runtime import Runtime
from gateway.scheduler import JobRunner
from gateway.signing.router import router as keys_router
from gateway.sources.router import router as sources_router
from gateway.text_input import refuse_unstorable_text
from gateway.views.router import router as views_router
from gateway.web.i18n import PageLanguageMiddleware, vocabulary_of
from gateway.web.pages import router as pages_router
from gateway.web.signin import router as signin_router


def create_app(runtime: Runtime) -> FastAPI:
    jobs = JobRunner(runtime, JOBS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.start(runtime)
        if runtime.settings.scheduler_enabled:
            jobs.start()
        yield
        await jobs.shutdown()
        await run_in_threadpool(access_log.stop, runtime)
        await runtime.view_reader.close()
        await asyncio.gather(*(a.aclose() for a in runtime.adapters.values()))

    install_cpr_redaction()
    app = FastAPI(
        title="Helhed",
        summary="Consent-aware data sharing between municipal departments",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.runtime = runtime
    app.state.jobs = jobs
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=runtime.settings.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware, public_url=runtime.settings.public_url)
    app.add_middleware(
        PageLanguageMiddleware,
        vocabulary=vocabulary_of(runtime.catalog, runtime.settings.insights),
    )
    app.add_middleware(RequestContextMiddleware, metrics=runtime.metrics)
    install_error_handlers(app)
    for router in (
        ops_router,
        views_router,
        consents_router,
        consent_exports_router,
        audit_router,
        keys_router,
    ):
        app.include_router(router)
    # The web pages: sign-in and the pages themselves, on the same services and role table.
    app.include_router(signin_router)
    app.include_router(pages_router)
    app.include_router(sources_router)
    return app
