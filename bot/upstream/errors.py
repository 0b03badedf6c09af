"""The typed error tree every upstream failure maps into (docs/architecture.md §1.2)."""

from __future__ import annotations


class UpstreamError(Exception):
    """Anything that went wrong talking to the upstream API."""


class UpstreamUnavailable(UpstreamError):
    """Timeouts, connection errors, 5xx: nothing was decided; retry later."""


class Maintenance(UpstreamUnavailable):
    """The provider announced maintenance (code 455); retry later."""


class RateLimited(UpstreamUnavailable):
    """Too many requests; retry after `retry_after` seconds when the provider says."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamRejected(UpstreamError):
    """The API said no; retrying the same request will not help. `reason` is the provider's text."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Unauthorized(UpstreamRejected):
    """The API key is missing, wrong or lacks permission."""


class InsufficientCredits(UpstreamRejected):
    """The account is out of credits."""


class InvalidTrack(UpstreamRejected):
    """The taskId/audioId pair (or another parameter) is not valid."""


class AlreadyExists(UpstreamRejected):
    """A video already exists for this track; `existing_task_id` when the provider names it."""

    def __init__(
        self, reason: str, code: int | None = None, existing_task_id: str | None = None
    ) -> None:
        super().__init__(reason, code)
        self.existing_task_id = existing_task_id


class Unsupported(UpstreamRejected):
    """The provider has no such endpoint (vidgo: timestamped lyrics, docs/providers.md §5.1)."""


class MalformedResponse(UpstreamError):
    """A body that is not in the dialect's shape."""
