"""Access control, cross-site protection and security headers for the brain service.

* **Who** (authentication): one ASGI middleware, so every route is covered — the ones added later
  too. Once any API key exists (memory/apikeys.py, `robocortex keys create`), every request but the
  public paths (`/health`, the console's page and assets, `/auth/login`) needs a valid key:
  `Authorization: Bearer <token>`, `X-API-Key: <token>`, the `robocortex_key` cookie (set by
  `POST /auth/login`, for the browser's EventSource) or `?token=<token>`. Without one: 401. With no key
  at all the service is open (the embedded single-machine default) and says so at start.
* **What** (authorisation): typed dependencies. `require(Role.operator)` on a route or router refuses
  a weaker key with 403; `by_method()` asks viewer for reads and operator for anything else, so a new
  POST under /tasks is operator-only without its author doing anything.
* **No cross-site state change**: a POST/PUT/PATCH/DELETE whose body is not JSON (a form post's
  urlencoded, multipart or text/plain) is refused with 415; one whose Origin (or Sec-Fetch-Site) says
  another site sent it is refused with 403, unless that origin is in `cors_origins`.
* **CORS** is off unless `cors_origins` lists origins. **Security headers** on every response: nosniff,
  frame-ancestors/X-Frame-Options, Referrer-Policy, and a strict CSP on the console.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from robocortex.client.models import Principal
from robocortex.memory.apikeys import ApiKeyStore, Role

log = logging.getLogger("robocortex.security")

__all__ = ["Role", "Principal", "require", "by_method", "CurrentPrincipal", "install_security", "router"]

COOKIE = "robocortex_key"
PUBLIC_PATHS = frozenset({"/health", "/", "/auth/login", "/auth/logout", "/favicon.ico"})
PUBLIC_PREFIXES = ("/console/",)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCHEMES = {
    "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "BearerToken": {"type": "http", "scheme": "bearer"},
    "APIKeyCookie": {"type": "apiKey", "in": "cookie", "name": COOKIE},
}
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = "frame-ancestors 'none'"  # Swagger UI and ReDoc start with an inline script
COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                  (b"referrer-policy", b"no-referrer")]


OPEN = Principal(name="anyone (no API keys exist)", role=Role.admin, open=True)
PUBLIC = Principal(name="public", role=Role.viewer)  # a public path (/health) reached without a key


def _store(app: Any) -> ApiKeyStore:
    memory = app.state.memory
    return ApiKeyStore(memory.r, memory.keys)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _token(headers: dict[str, str], query: str) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    if headers.get("x-api-key"):
        return headers["x-api-key"].strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    given = parse_qs(query).get("token")
    return given[0] if given else None


def _csp(path: str) -> bytes:
    if path == "/" or path.startswith("/console/"):
        return CONSOLE_CSP.encode()
    if path.startswith(("/docs", "/redoc")):
        return DOCS_CSP.encode()
    return API_CSP.encode()


def _cross_site(headers: dict[str, str], allowed: frozenset[str]) -> str | None:
    """Why a state-changing request looks sent by another site's page, or None."""
    origin = headers.get("origin")
    if origin is not None:
        if origin in allowed:
            return None
        if origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
            return f"Origin {origin}"
        return None
    if headers.get("sec-fetch-site") == "cross-site":
        return "Sec-Fetch-Site: cross-site"
    return None


class AccessMiddleware:
    """Authentication, cross-site refusals and security headers, as a pure ASGI middleware (event
    streams pass through untouched)."""

    def __init__(self, app: Any, cors_origins: tuple[str, ...] = ()):
        self.app = app
        self.allowed_origins = frozenset(cors_origins)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

        async def send_secured(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [*COMMON_HEADERS, (b"content-security-policy", _csp(path))]
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                   *((k, v) for k, v in extra if k not in present)]}
            await send(message)

        if method in STATE_CHANGING:
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype and ctype != "application/json" and not ctype.endswith("+json"):
                await _refuse(send_secured, 415, f"Content-Type {ctype} is refused: send JSON with Content-Type: "
                              "application/json (form posts cannot change anything here)")
                return
            why = _cross_site(headers, self.allowed_origins)
            if why is not None:
                await _refuse(send_secured, 403, f"refused a cross-site request ({why}): only this service's own "
                              "pages and origins listed in cors_origins may change anything")
                return
        if method == "OPTIONS" and self.allowed_origins and "access-control-request-method" in headers:
            await self.app(scope, receive, send_secured)  # a CORS preflight carries no key: CORSMiddleware answers
            return
        store = _store(scope["app"])
        if await to_thread.run_sync(store.any_active):
            token = _token(headers, scope.get("query_string", b"").decode("latin-1"))
            record = await to_thread.run_sync(store.verify, token) if token else None
            if record is None and _is_public(path):
                principal = PUBLIC
            elif record is None:
                what = "this API key is unknown or revoked" if token else "an API key is required"
                await _refuse(send_secured, 401, f"{what}: send Authorization: Bearer <key> or X-API-Key: <key> "
                              "(`robocortex keys create` makes one)", [(b"www-authenticate", b"Bearer")])
                return
            else:
                principal = Principal(name=record.name, role=record.role, key_id=record.id)
        else:
            principal = OPEN
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send_secured)


async def _refuse(send: Callable, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail, "errors": []}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------------- typed dependencies


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # an app built without the middleware
        raise HTTPException(401, "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(role: Role) -> Any:
    """A dependency refusing (403) a caller whose key's role is below `role`; it returns the caller."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(403, f"the key {principal.name!r} is a {principal.role.value}; this needs "
                                f"{role.value} or above")
        return principal

    check.__name__ = f"require_{role.value}"
    return Depends(check)


def by_method(read: Role = Role.viewer, write: Role = Role.operator) -> Any:
    """`read` for GET/HEAD/OPTIONS, `write` for everything else: a router's default."""

    def check(request: Request, principal: CurrentPrincipal) -> Principal:
        needed = write if request.method in STATE_CHANGING else read
        if not principal.role.allows(needed):
            raise HTTPException(403, f"the key {principal.name!r} is a {principal.role.value}; "
                                f"{request.method} here needs {needed.value} or above")
        return principal

    return Depends(check)


# ---------------------------------------------------------------------------------- login for browsers

router = APIRouter(prefix="/auth", tags=["auth"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, description="an API key (rck_…)")


@router.post("/login", response_model=Principal, include_in_schema=False)
async def login(body: Login, request: Request, response: Response) -> Principal:
    """Check a key and keep it in an HttpOnly, SameSite=Strict cookie, so the console's requests and event
    streams carry it. With no key in existence the service is open and nothing is stored."""
    store = _store(request.app)
    if not await to_thread.run_sync(store.any_active):
        return OPEN
    record = await to_thread.run_sync(store.verify, body.key)
    if record is None:
        raise HTTPException(401, "this API key is unknown or revoked")
    response.set_cookie(COOKIE, body.key, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return Principal(name=record.name, role=record.role, key_id=record.id)


@router.post("/logout", status_code=204, response_class=Response, include_in_schema=False)
def logout() -> Response:
    """Forget the key the console's cookie holds."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=Principal)
def me(principal: CurrentPrincipal) -> Principal:
    """Who the key sent is (the console asks, to know whether to show its login field)."""
    return principal


# ---------------------------------------------------------------------------------- installing it


def install_security(app: FastAPI, cors_origins: list[str] | tuple[str, ...] = ()) -> None:
    """The middleware, CORS when origins are configured, and the OpenAPI's security declarations."""
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "Last-Event-ID"])
    # added last = outermost: refusals and headers apply before CORS and the routes
    app.add_middleware(AccessMiddleware, cors_origins=tuple(cors_origins))
    app.include_router(router)
    _document(app)


def _document(app: FastAPI) -> None:
    """Every non-public operation declares the three ways to send a key and its 401/403; every
    state-changing one its 415. While no key exists the requirement is shown as optional (`{}`), as it is."""
    from robocortex.agents.api.errors import ErrorBody

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(SCHEMES)
            schemas = schema["components"].setdefault("schemas", {})
            schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"))
            ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
            for path, operations in schema.get("paths", {}).items():
                for method, op in operations.items():
                    if not isinstance(op, dict) or "responses" not in op:
                        continue
                    responses = op["responses"]
                    if method.upper() in STATE_CHANGING:
                        responses.setdefault("415", {"description": "the body is not JSON (a form post)", **ref})
                        responses.setdefault("403", {"description": "refused: a cross-site request, or a key "
                                                                     "whose role is too low", **ref})
                    if _is_public(path):
                        continue
                    responses.setdefault("401", {"description": "no API key, or an unknown or revoked one", **ref})
                    responses.setdefault("403", {"description": "the key's role is too low for this", **ref})
                    op["security"] = [{name: []} for name in SCHEMES]
            app.openapi_schema = schema
        schema = app.openapi_schema
        open_now = _open(app)
        for operations in schema.get("paths", {}).values():
            for op in operations.values():
                if isinstance(op, dict) and "security" in op:
                    op["security"] = [s for s in op["security"] if s] + ([{}] if open_now else [])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _open(app: FastAPI) -> bool:
    try:
        return not _store(app).any_active()
    except Exception:  # noqa: BLE001 - before start-up (no memory yet): as documented for a fresh service
        return True


def warn_if_open(app: FastAPI) -> None:
    """At start: say plainly when the service is open to anyone who can reach its port."""
    if _store(app).any_active():
        log.info("access control on: API keys are required (every route but /health)")
    else:
        log.warning("access control OFF: no API key exists, so anyone who can reach this port may submit, cancel "
                    "and administer; create one with `robocortex keys create --role admin --name NAME`")
