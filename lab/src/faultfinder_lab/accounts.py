"""The lab app's accounts: scrypt password hashes and HMAC-signed bearer tokens (pure, no I/O).

A token is ``labtok_`` + the user and its expiry, signed with the lab's key: checking one needs
no database, so the ask step depends on the answer cache alone, and login on PostgreSQL alone.
The prefix lets tests assert a captured token never reaches any output.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

TOKEN_PREFIX = "labtok_"
TOKEN_LIFETIME = 3600.0  # seconds
# scrypt's cost: about 16 MiB and a few tens of milliseconds per login, as a real service.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex), for the users table; never the password itself."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "$".join(
        ["scrypt", *(str(_SCRYPT[name]) for name in ("n", "r", "p")), salt.hex(), digest.hex()]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:  # a malformed hash matches nothing
        return False
    return hmac.compare_digest(computed.hex(), digest)


def issue_token(user: str, key: bytes, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + TOKEN_LIFETIME)
    payload = _encode(f"{user}\n{expires}".encode())
    return f"{TOKEN_PREFIX}{payload}.{_sign(payload, key)}"


def verify_token(token: str, key: bytes, now: float | None = None) -> str | None:
    """The token's user, or None when it is malformed, forged or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    payload, _, signature = token.removeprefix(TOKEN_PREFIX).partition(".")
    if not hmac.compare_digest(signature, _sign(payload, key)):
        return None
    try:
        user, expires = base64.urlsafe_b64decode(payload + "==").decode().split("\n")
        if int(expires) < (time.time() if now is None else now):
            return None
    except ValueError:
        return None
    return user


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header, or ""."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(payload: str, key: bytes) -> str:
    return _encode(hmac.new(key, payload.encode(), hashlib.sha256).digest())
