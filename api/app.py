"""The Floorwatch API: `create_app(settings)` builds the FastAPI application.

Resources are versioned under /api/v1; `/health` and `/metrics` sit at the root where
monitoring expects them. Every request except `/health` needs an API key (see `api.keys`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.context import ApiContext
from api.docs_page import install_docs
from api.http_limits import SecurityHeaders
from api.keys import KeyStore
from api.metrics import CountRequests
from api.routes import (
    comparison,
    health,
    kpis,
    quarantine,
    readings,
    reports,
    scorecards,
    state,
    system,
    trends,
)
from api.routes import registry as registry_routes
from floorwatch import __version__
from floorwatch.registry import Registry, load_registry
from floorwatch.settings import Settings, load_settings
from floorwatch.store import Store

DESCRIPTION = """
Live state of school entrance floors, readings, sensor health, KPI results, monthly scorecards
with bonus/malus, the supplier comparison and the monthly report, for the outcome-based
procurement of clean and dry entrances (Trelleborg, Skurup, Ystad).

Send an API key as `Authorization: Bearer <key>` (made with `floorwatch keys create`). Each key
has a role: admin, procurement, facility (its schools only), technician, supplier (its own
installations only). Only `/health` answers without a key.
"""


def create_app(
    settings: Settings,
    *,
    registry: Registry | None = None,
    store: Store | None = None,
) -> FastAPI:
    """Build the app. `registry` and `store` default to the ones `settings` names; the store is
    opened on first use (so the service starts while the store is still down)."""
    context = ApiContext(
        settings,
        registry if registry is not None else load_registry(settings.registry),
        KeyStore(settings.keys_file, cache_s=settings.api_cache_s),
        store,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    app = FastAPI(
        title="Floorwatch API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Swagger UI and ReDoc load their assets from a CDN: /docs is served offline instead
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    errors.install(app)
    install_docs(app)
    app.add_middleware(CountRequests, counter=context.requests)
    app.add_middleware(SecurityHeaders)
    app.include_router(system.router)
    for module in (
        registry_routes,
        readings,
        state,
        health,
        kpis,
        scorecards,
        comparison,
        trends,
        reports,
        quarantine,
    ):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The app from `FLOORWATCH_*` settings (uvicorn factory for several worker processes)."""
    return create_app(load_settings())
