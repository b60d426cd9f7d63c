"""Floorwatch errors to HTTP status codes: the one place where that mapping lives.

Every error answer has the body ``{"detail": "<one clear line>"}``. A 403 never names what was
asked for, so it cannot tell a caller whether the thing exists.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorBody
from floorwatch.errors import (
    AccessDenied,
    ConfigError,
    FloorwatchError,
    InvalidRequest,
    NotFound,
    RegistryError,
    StoreCorrupt,
    StoreRejected,
    StoreUnavailable,
    Unauthenticated,
)

log = logging.getLogger(__name__)

# HTTP statuses, the one place they are decided: most specific first, the first class an
# error is an instance of decides its status; anything else is a 500.
STATUS: list[tuple[type[FloorwatchError], int]] = [
    (Unauthenticated, 401),
    (NotFound, 404),
    (AccessDenied, 403),
    (InvalidRequest, 422),
    (StoreUnavailable, 503),
    (StoreRejected, 502),
    (StoreCorrupt, 500),  # our stored data is wrong: not the store's failure, not a 502
    (ConfigError, 500),
    (RegistryError, 500),
]


def status_of(exc: FloorwatchError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _body(detail: str) -> dict[str, str]:
    return {"detail": detail}


# Documented on every protected route, so the OpenAPI says what a caller can get back.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "No API key, or an unknown or revoked one",
        403: "The key's role does not allow this",
        404: "No such thing",
        422: "A parameter is invalid (the detail says which and why)",
        503: "The store is unavailable; retry later",
    }
    return {s: {"model": ErrorBody, "description": text[s]} for s in statuses}


def json_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The same, for routes whose success is not JSON (HTML, Prometheus text): their errors
    are still JSON, which FastAPI would otherwise document under the route's media type."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {
        status: {"description": answer["description"], "content": body}
        for status, answer in error_responses(*statuses).items()
    }


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into answers."""

    @app.exception_handler(FloorwatchError)
    async def _floorwatch(_: Request, exc: FloorwatchError) -> JSONResponse:
        status = status_of(exc)
        if isinstance(exc, AccessDenied):
            detail = "this key is not allowed to see that"  # never echo what was asked for
        elif status >= 500:
            # the log has the error; the answer never says where the store lives
            log.warning("%s: %s", type(exc).__name__, exc)
            detail = (
                "the store is unavailable; retry later"
                if status == 503
                else "internal error (see the service log)"
            )
        else:
            detail = str(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(_body(detail), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "query")
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse(_body("; ".join(problems) or "invalid request"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keep the exception's headers: a 405 must list the allowed methods (Allow).
        return JSONResponse(
            _body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )
