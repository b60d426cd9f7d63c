"""Request dependencies, as `Annotated` aliases the routes declare as parameter types.

They are `async` although they do not await: FastAPI runs plain `def` dependencies in a worker
thread, and a thread hop per dependency costs more than the work itself (the key check is an
in-memory cache hit, or one indexed SQLite row on a miss)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.access import Access
from api.context import ApiContext
from api.keys import ApiKey
from floorwatch.errors import Unauthenticated
from floorwatch.i18n import languages, negotiate
from floorwatch.registry import Registry
from floorwatch.store import Store

bearer = HTTPBearer(
    auto_error=False,
    description="A key from `floorwatch keys create`, sent as `Authorization: Bearer <key>`",
)


async def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


async def get_access(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Access:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("an API key is required: send Authorization: Bearer <key>")
    key = context.keys.verify(credentials.credentials)
    if key is None:
        raise Unauthenticated("unknown or revoked API key")
    return Access(key, context.registry)


Caller = Annotated[Access, Depends(get_access)]


async def get_optional_key(context: Context, request: Request) -> ApiKey | None:
    """The caller's key on a route open to all (`/health`): None without a valid one. Read
    from the header directly, so that the route is not documented as needing a key."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return context.keys.verify(token.strip())


OptionalKey = Annotated[ApiKey | None, Depends(get_optional_key)]


def get_store(context: Context) -> Store:
    return context.store


StoreDep = Annotated[Store, Depends(get_store)]


async def get_registry(context: Context) -> Registry:
    return context.registry


RegistryDep = Annotated[Registry, Depends(get_registry)]


async def get_language(
    context: Context,
    lang: Annotated[
        str | None,
        Query(
            description="answer in this language; overrides Accept-Language",
            # the languages there are catalogues for, so the OpenAPI document lists them
            pattern=f"^({'|'.join(languages())})$",
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """?lang= if given (one without a catalogue is a 422), else the best of Accept-Language,
    else the language the registry's contracts name."""
    return lang or negotiate(accept_language, context.registry.language)


Language = Annotated[str, Depends(get_language)]
