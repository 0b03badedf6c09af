"""Per-job callback tokens: derived from a secret, stored only as a hash, checked in constant time.

A token is HMAC(secret + database salt, job id). Deriving it (instead of storing it) means a
resubmission after a crash sends the *same* callback URL, so a callback for the first,
already-accepted request still finds its job (docs/architecture.md §4.7), while the database
alone never reveals a usable token. The salt is random per database, so a reset database (job
ids counting from 1 again) never hands out a token that an earlier database already gave away.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

INVALID_CALLBACK_BASE = "https://callbacks.musicvideo-bot.invalid"
SALT_KEY = "callback_token_salt"  # the `meta` key the database's salt is stored under


def new_salt() -> str:
    """A fresh random salt for a new database (256 bits, hex)."""
    return secrets.token_hex(32)


class CallbackTokens:
    """Makes and checks the secret part of `/callbacks/{token}` URLs."""

    def __init__(self, secret: str, *, salt: str) -> None:
        material = b"\0".join((b"musicvideo-bot callback tokens", salt.encode(), secret.encode()))
        self._key = hashlib.sha256(material).digest()

    def token_for(self, job_id: int) -> str:
        """The callback token of job `job_id` (URL-safe, 256 bits)."""
        digest = hmac.new(self._key, f"job:{job_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def placeholder_hash() -> str:
    """A random value for a row whose id (and so whose token) is not known yet."""
    return "unset-" + secrets.token_hex(16)


def hash_token(token: str) -> str:
    """The value stored in the database for `token`."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Whether `token` hashes to `stored_hash`, in constant time."""
    return hmac.compare_digest(hash_token(token), stored_hash)


def callback_url(public_base_url: str | None, token: str) -> str:
    """Where the upstream should POST; a never-resolving `.invalid` host when poll-only."""
    base = (public_base_url or INVALID_CALLBACK_BASE).rstrip("/")
    return f"{base}/callbacks/{token}"
