"""Pure descriptions of HTTP requests and responses, so dialect modules stay free of I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request a dialect wants sent; `path` is relative to the provider's base URL."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What came back: HTTP status and raw body."""

    status_code: int
    body: bytes
    retry_after: float | None = None  # the HTTP Retry-After header, in seconds, when given
