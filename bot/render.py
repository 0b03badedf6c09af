"""Pure rendering of job facts into user-facing text, via the catalogue in `bot.texts`."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import JobState
from bot.jobs import ErrorKind, Phase
from bot.texts import has_text, text
from storage.jobs import Job

_PLAIN_PHASES = {
    Phase.SUBMITTING: "status_submitting",
    Phase.RETRYING: "status_retrying",
    Phase.MAINTENANCE: "status_maintenance",
    Phase.RENDERING: "status_rendering",
    Phase.UPLOADING: "status_uploading",
    Phase.DELIVERED: "status_delivered",
    Phase.UNDELIVERABLE: "status_undeliverable",
}

_STATE_PHASES = {
    JobState.SUBMITTING: Phase.SUBMITTING,
    JobState.PENDING: Phase.RENDERING,
    JobState.SUCCEEDED: Phase.UPLOADING,
    JobState.DELIVERED: Phase.DELIVERED,
    JobState.FAILED: Phase.FAILED,
    JobState.TIMED_OUT: Phase.TIMED_OUT,
    JobState.UNDELIVERABLE: Phase.UNDELIVERABLE,
}


def phase_of(state: JobState) -> Phase:
    """The phase a stored job is in, for `/status`."""
    return _STATE_PHASES[state]


def status_text(job: Job, phase: Phase, *, job_timeout_minutes: float) -> str:
    """The status message for `job` in `phase`."""
    if phase is Phase.FAILED:
        return text(job.language, "status_failed", reason=failure_reason(job))
    if phase is Phase.TIMED_OUT:
        return text(job.language, "status_timed_out", minutes=f"{job_timeout_minutes:g}")
    return text(job.language, _PLAIN_PHASES[phase])


def failure_reason(job: Job) -> str:
    """One sentence saying why `job` failed and what to do next."""
    kind = job.error_kind or ErrorKind.PROVIDER_FAILED.value
    detail = f": {job.error.strip()}" if job.error and job.error.strip() else ""
    if len(detail) > 200:
        detail = detail[:199] + "…"
    key = f"reason_{kind}" if has_text(f"reason_{kind}") else "reason_rejected"
    return text(
        job.language,
        key,
        task_id=job.task_id,
        audio_id=job.audio_id,
        detail=detail,
    )


def expiry_date(job: Job, retention_days: int, now: datetime) -> str:
    """The UTC date (YYYY-MM-DD) the provider's link stops working."""
    made = job.completed_at or now
    return (made + timedelta(days=retention_days)).strftime("%Y-%m-%d")


def headline(job: Job) -> str:
    """Who and what: the author when known, and the track."""
    if job.author:
        return text(job.language, "caption_author", author=job.author, audio_id=job.audio_id)
    return text(job.language, "caption_track", audio_id=job.audio_id)


def video_caption(job: Job, retention_days: int, now: datetime) -> str:
    """The caption under a posted video."""
    expiry = expiry_date(job, retention_days, now)
    return text(job.language, "caption", headline=headline(job), expiry=expiry)


def link_message(job: Job, url: str, retention_days: int, now: datetime) -> str:
    """The message sent instead of a video that cannot be posted as a file."""
    expiry = expiry_date(job, retention_days, now)
    return text(job.language, "video_link", headline=headline(job), url=url, expiry=expiry)
