"""API keys with roles, hashed at rest.

A key is a token `rck_<id>_<secret>`: `id` is public (it names the key in lists and logs), `secret` is
32 random bytes (`secrets.token_urlsafe`). Redis keeps only the SHA-256 of the whole token (a token of
that entropy needs no slow hash); a presented token is looked up by its id and its digest compared in
constant time (`hmac.compare_digest`). The token itself is returned once, by `create`, and never stored.

Roles are ordered: viewer (read) < operator (submit, cancel, approve, interrupt, resume, kill) <
admin (robots and settings); a role may do everything the roles below it may.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from enum import Enum

import redis
from pydantic import BaseModel, Field

from .keys import Keys
from .schemas import Timestamp, now

TOKEN_PREFIX = "rck_"
_TOKEN = re.compile(r"^rck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$"


class Role(str, Enum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: "Role") -> bool:
        return self.rank >= needed.rank


_RANK = {Role.viewer: 1, Role.operator: 2, Role.admin: 3}


class ApiKeyRecord(BaseModel):
    """One key as stored and listed: never the token, only its digest (which `public()` drops)."""

    id: str = Field(description="public id: the part after rck_ in the token")
    name: str = Field(description="who or what holds the key")
    role: Role
    created_at: Timestamp = Field(default_factory=now)
    revoked_at: Timestamp | None = None
    digest: str | None = Field(default=None, description="sha256 hex of the token (stored, never shown)")

    def public(self) -> "ApiKeyRecord":
        return self.model_copy(update={"digest": None})


class CreatedKey(BaseModel):
    key: ApiKeyRecord
    token: str = Field(description="the secret to send as `Authorization: Bearer <token>` or `X-API-Key`; shown once")


class UnknownKey(LookupError):
    """No active key with that id."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiKeyStore:
    def __init__(self, r: redis.Redis, keys: Keys):
        self.r, self.keys = r, keys

    def create(self, name: str, role: Role) -> CreatedKey:
        if not re.match(NAME_PATTERN, name):
            raise ValueError(f"key name {name!r}: 1 to 64 letters, digits, spaces or . _ @ -, starting with a "
                             "letter or digit")
        key_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKeyRecord(id=key_id, name=name, role=Role(role), digest=digest(token))
        if not self.r.hsetnx(self.keys.api_keys, key_id, record.model_dump_json()):  # pragma: no cover - 2^-48
            return self.create(name, role)
        return CreatedKey(key=record.public(), token=token)

    def any_active(self) -> bool:
        """True once any key exists: from then on every request but /health needs one."""
        return bool(self.r.hlen(self.keys.api_keys))

    def verify(self, token: str) -> ApiKeyRecord | None:
        """The active key this token is, or None (malformed, unknown, revoked or wrong secret)."""
        match = _TOKEN.match(token or "")
        if match is None:
            return None
        doc = self.r.hget(self.keys.api_keys, match.group(1))
        if doc is None:
            return None
        record = ApiKeyRecord.model_validate_json(doc)
        if record.digest is None or not hmac.compare_digest(record.digest, digest(token)):
            return None
        return record.public()

    def list(self, include_revoked: bool = False) -> list[ApiKeyRecord]:
        records = [ApiKeyRecord.model_validate_json(d).public() for d in self.r.hvals(self.keys.api_keys)]
        if include_revoked:
            records += [ApiKeyRecord.model_validate_json(d).public() for d in self.r.hvals(self.keys.api_keys_revoked)]
        return sorted(records, key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Move the key to the revoked list (kept for the audit); it authenticates nothing from now on."""
        key_id = key_id.removeprefix(TOKEN_PREFIX).split("_")[0]
        while True:
            with self.r.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self.keys.api_keys)
                    doc = pipe.hget(self.keys.api_keys, key_id)
                    if doc is None:
                        raise UnknownKey(f"no active key {key_id!r}; `robocortex keys list` shows them")
                    record = ApiKeyRecord.model_validate_json(doc).model_copy(update={"revoked_at": now()})
                    pipe.multi()
                    pipe.hdel(self.keys.api_keys, key_id)
                    pipe.hset(self.keys.api_keys_revoked, key_id, record.model_dump_json())
                    pipe.execute()
                    return record.public()
                except redis.WatchError:
                    continue
