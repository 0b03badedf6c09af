"""Pure helpers every dialect module shares: body decoding, error-code mapping, timestamps.

No I/O here and no knowledge of any one provider's paths; must not import httpx.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.upstream.errors import (
    AlreadyExists,
    InsufficientCredits,
    InvalidTrack,
    MalformedResponse,
    RateLimited,
    Unauthorized,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bot.upstream.http import HttpResponse

log = logging.getLogger(__name__)

ErrorClass = type[UpstreamUnavailable] | type[UpstreamRejected]
ErrorTable = Mapping[int, ErrorClass]

# A code the generated docs show as success (docs/providers.md §7.3). Accepted only together with
# a body that carries the data the caller needs, so a placeholder example still fails as malformed.
GENERATED_DOCS_SUCCESS_CODE = 0
SUCCESS_CODES = frozenset({200, GENERATED_DOCS_SUCCESS_CODE})

# A bare HTTP status (no body code) keeps its HTTP meaning where the family's table has none.
# 429 is always "slow down" at the HTTP layer: SUNOAPI's body code 429 means "out of credits"
# (§3.4), but a throttling proxy in front of it answers HTTP 429 without a body code.
_HTTP_STATUS_ERRORS: dict[int, ErrorClass] = {
    400: InvalidTrack,
    401: Unauthorized,
    402: InsufficientCredits,
    403: Unauthorized,
    404: InvalidTrack,
    408: UpstreamUnavailable,
    409: AlreadyExists,
    422: InvalidTrack,
}
_HTTP_STATUS_OVERRIDES: dict[int, ErrorClass] = {429: RateLimited}

_MAX_REASON_CHARS = 300
_EPOCH_MS_THRESHOLD = 100_000_000_000  # below: unix seconds (year 5138); above: milliseconds


def decode_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or MalformedResponse."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedResponse(f"body is not JSON: {_snippet(body)!r}") from exc
    if not isinstance(value, dict):
        raise MalformedResponse(f"body is JSON but not an object: {type(value).__name__}")
    return value


def object_field(payload: Mapping[str, Any], name: str) -> dict[str, Any]:
    """`payload[name]` when it is a JSON object, else MalformedResponse."""
    value = payload.get(name)
    if not isinstance(value, dict):
        raise MalformedResponse(f"field {name!r} is not an object: {type(value).__name__}")
    return value


def text_field(payload: Mapping[str, Any], *names: str) -> str | None:
    """The first of `names` holding a non-empty string, stripped."""
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def int_code(value: object) -> int | None:
    """A response code given as an integer or a numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value.strip())
        except ValueError:  # "--5", "²" (a digit int() refuses), past int's 4300-digit limit
            return None
    return None


def mentions_already_exists(message: str | None) -> bool:
    """Whether a provider message says the video was already made (docs/providers.md §7.5)."""
    return message is not None and "already exists" in message.lower()


def message_of(payload: Mapping[str, Any]) -> str | None:
    """The provider's error text: `error.message` (UNIFIED, §4.4), else `msg` or `message`."""
    error = payload.get("error")
    if isinstance(error, dict) and (text := text_field(error, "message", "type")):
        return text
    if isinstance(error, str) and error.strip():
        return error.strip()
    return text_field(payload, "msg", "message")


def existing_task_id(payload: Mapping[str, Any]) -> str | None:
    """The existing video task id an "already exists" answer may carry (§7.5)."""
    data = payload.get("data")
    return text_field(data, "taskId", "task_id") if isinstance(data, dict) else None


def error_for(
    code: int, message: str | None, table: ErrorTable, *, existing_id: str | None = None
) -> UpstreamError:
    """The exception a provider code means, per the family's `table`."""
    reason = (message or f"code {code}")[:_MAX_REASON_CHARS]
    if code == 409 or mentions_already_exists(message):
        return AlreadyExists(reason, code, existing_task_id=existing_id)
    kind = table.get(code)
    if kind is None and 500 <= code <= 599:
        kind = UpstreamUnavailable
    if kind is None:
        log.warning("unknown upstream code %s: %s", code, reason)
        kind = UpstreamRejected
    if issubclass(kind, UpstreamRejected):
        return kind(reason, code)
    return kind(f"code {code}: {reason}")


def checked_payload(response: HttpResponse, table: ErrorTable) -> dict[str, Any]:
    """The JSON payload of a successful answer; raises the error tree otherwise.

    Errors come in two layers (docs/providers.md §7.9): a body `code` (usually with HTTP 200)
    wins; without one, a non-2xx HTTP status decides. A "slow down" carries the provider's
    Retry-After, when it sent one.
    """
    try:
        return _checked_payload(response, table)
    except RateLimited as exc:
        if exc.retry_after is None:
            exc.retry_after = response.retry_after
        raise


def _checked_payload(response: HttpResponse, table: ErrorTable) -> dict[str, Any]:
    try:
        payload: dict[str, Any] | None = decode_object(response.body)
    except MalformedResponse:
        payload = None
    code = int_code(payload.get("code")) if payload is not None else None
    if payload is not None and code is not None:
        if code in SUCCESS_CODES:
            return payload
        raise error_for(code, message_of(payload), table, existing_id=existing_task_id(payload))
    status = response.status_code
    if not 200 <= status <= 299:
        message = message_of(payload) if payload is not None else _snippet(response.body)
        http_table = {**_HTTP_STATUS_ERRORS, **table, **_HTTP_STATUS_OVERRIDES}
        existing = existing_task_id(payload) if payload is not None else None
        raise error_for(status, message or f"HTTP {status}", http_table, existing_id=existing)
    if payload is None:
        raise MalformedResponse(f"HTTP {status} body is not a JSON object")
    return payload


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from epoch ms/s, "YYYY-MM-DD HH:MM:SS" or ISO-8601; else None.

    Zone-less strings are read as UTC: no provider documents a zone (docs/providers.md §7.2).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # the shift to UTC can leave years 1..9999
        return None


def decimal_amount(value: object) -> Decimal:
    """A credit balance as Decimal (kie may answer fractions, §7.15); MalformedResponse if none."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal("NaN")
        if amount.is_finite():
            return amount
    raise MalformedResponse(f"credit balance is not a number: {value!r}")


def seconds_or_none(value: object) -> float | None:
    """A duration in seconds from a number or numeric string; None when absent or nonsense."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    seconds = number / 1000 if abs(number) >= _EPOCH_MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _snippet(body: bytes) -> str:
    return body[:_MAX_REASON_CHARS].decode("utf-8", errors="replace").strip()


def unverifiable_signature(
    key: str,
    task_id: str,
    timestamp: str,
    signature: str,
    *,
    now: float,
    max_age_seconds: float = 300,
) -> bool:
    """`verify_signature` of a family without a signature scheme: always False."""
    del key, task_id, timestamp, signature, now, max_age_seconds
    return False
