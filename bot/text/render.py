"""Pure rendering of job facts into user-facing text, via the catalogue in `bot.text.texts`."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.domain import JobState
from bot.engine.job_model import ErrorKind, Phase
from bot.text.text_limits import CAPTION_LIMIT, MESSAGE_LIMIT, fit, shorten
from bot.text.texts import has_text, text
from storage.chats import ChatSettings
from storage.jobs import VARIANT_LIVE, VARIANT_LOOP, Job

_PLAIN_PHASES = {
    Phase.SUBMITTING: "status_submitting",
    Phase.QUEUED: "status_queued",
    Phase.RETRYING: "status_retrying",
    Phase.MAINTENANCE: "status_maintenance",
    Phase.RENDERING: "status_rendering",
    Phase.UPLOADING: "status_uploading",
    Phase.DELIVERED: "status_delivered",
    Phase.UNDELIVERABLE: "status_undeliverable",
    Phase.FALLBACK: "status_fallback",
}

# A loop or a live photo is not a video to the user (issue 20).
_VARIANT_DELIVERED = {VARIANT_LOOP: "status_delivered_loop", VARIANT_LIVE: "status_delivered_live"}

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


def status_text(
    job: Job, phase: Phase, *, job_timeout_minutes: float, root_cause: Job | None = None
) -> str:
    """The status message for `job` in `phase`; `root_cause` is the provider job a failed
    fallback render stood in for (docs/architecture.md §8.4)."""
    if phase is Phase.FAILED:
        return text(job.language, "status_failed", reason=failure_reason(job, root_cause))
    if phase is Phase.TIMED_OUT:
        return text(job.language, "status_timed_out", minutes=f"{job_timeout_minutes:g}")
    if phase is Phase.DELIVERED and job.variant in _VARIANT_DELIVERED:
        return text(job.language, _VARIANT_DELIVERED[job.variant])
    return text(job.language, _PLAIN_PHASES[phase])


def failure_reason(job: Job, root_cause: Job | None = None) -> str:
    """One sentence saying why `job` failed and what to do next; for a fallback render, what
    made the provider fail first (`root_cause`, e.g. out of credits) comes before it."""
    reason = _own_reason(job)
    root_kind = root_cause.error_kind if root_cause is not None else None
    key = f"fallback_root_{root_kind}"
    if root_cause is None or job.fallback_of is None or not has_text(key):
        return reason
    detail = provider_detail(root_cause.error)
    return text(job.language, key, detail=detail, reason=reason)


def _own_reason(job: Job) -> str:
    kind = job.error_kind or ErrorKind.PROVIDER_FAILED.value
    detail = shorten(f": {job.error.strip()}", 200) if job.error and job.error.strip() else ""
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


class Headlined(Protocol):
    """What a headline needs of a job (a `Job`, or a narrow read of one)."""

    @property
    def language(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def audio_id(self) -> str: ...


def headline(job: Headlined) -> str:
    """Who and what: the author when known, and the track."""
    if job.title:
        if job.author:
            return text(job.language, "caption_author_title", author=job.author, title=job.title)
        return job.title
    if job.author:
        return text(job.language, "caption_author", author=job.author, audio_id=job.audio_id)
    return text(job.language, "caption_track", audio_id=job.audio_id)


def video_caption(job: Job, retention_days: int, now: datetime) -> str:
    """The caption under a posted video, within Telegram's caption limit (the headline is cut,
    never the expiry date)."""
    expiry = expiry_date(job, retention_days, now)

    def caption(head: str) -> str:
        return text(job.language, "caption", headline=head, expiry=expiry)

    return fit(caption, headline(job), CAPTION_LIMIT)


def render_caption(job: Job) -> str:
    """The caption under a video our own renderer made; a fallback says it stands in for the
    provider's (issue 10)."""
    # A teaser standing in for a refused live photo (issue 20) is no provider fallback.
    provider_fallback = job.fallback_of is not None and not job.teaser
    key = "render_caption_fallback" if provider_fallback else "render_caption"

    shape = job.video_format or ""
    if job.teaser:
        shape = text(job.language, "render_caption_teaser", video_format=shape)
    elif job.karaoke:
        shape = text(job.language, "render_caption_karaoke", video_format=shape)

    def caption(head: str) -> str:
        return text(job.language, key, headline=head, video_format=shape)

    return fit(caption, headline(job), CAPTION_LIMIT)


def render_progress_text(job: Job, *, percent: int | None, ahead: int | None) -> str:
    """A render's status message: its place in line, or how far ffmpeg got."""
    if ahead is not None:
        return text(job.language, "render_status_queued", ahead=ahead)
    if percent is not None:
        return text(job.language, "render_status_progress", percent=percent)
    if job.fallback_of is not None and not job.teaser:  # a provider fallback (§8.4)
        return text(job.language, "status_fallback")
    return render_started_text(job)


def render_started_text(job: Job) -> str:
    """A render's first status: what is being made (a loop, a live photo, karaoke, a video)."""
    if job.variant == VARIANT_LOOP:
        return text(job.language, "loop_status_started")
    if job.variant == VARIANT_LIVE:
        return text(job.language, "live_status_started")
    return text(job.language, "karaoke_status_started" if job.karaoke else "render_status_started")


def link_message(
    job: Job, url: str, retention_days: int, now: datetime, *, no_video_rights: bool = False
) -> str:
    """The message sent instead of a video that cannot be posted as a file (too large, or
    the bot may not send videos in the chat), within Telegram's message limit (the headline
    is cut, never the link or the expiry date)."""
    expiry = expiry_date(job, retention_days, now)
    key = "video_link_no_rights" if no_video_rights else "video_link"

    def message(head: str) -> str:
        return text(job.language, key, headline=head, url=url, expiry=expiry)

    return fit(message, headline(job), MESSAGE_LIMIT)


def gave_up_message(job: Job, url: str | None, retention_days: int, now: datetime) -> str:
    """The last word about a video that could not be posted: its link while it works."""
    if url is None:
        return text(job.language, "delivery_gave_up", headline=headline(job), job_id=job.id)
    expiry = expiry_date(job, retention_days, now)
    return text(
        job.language,
        "delivery_gave_up_link",
        headline=headline(job),
        job_id=job.id,
        url=url,
        expiry=expiry,
    )


def refused_message(job: Job, refusal: str) -> str:
    """The one message about a video Telegram refuses for good (`refusal`: rights, file_id,
    too_big, content; docs/architecture.md §6.2)."""
    key = f"video_refused_{refusal}"
    return text(
        job.language, key if has_text(key) else "video_refused_content", headline=headline(job)
    )


# --- picker, settings and credits (helper) ---

TRACK_LABEL_LIMIT = 48  # characters; longer button labels are cut on phone screens anyway


def format_duration(seconds: float | None) -> str | None:
    """`m:ss` for a track length in seconds (rounded); None when unknown or nonsense."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def track_label(language: str, title: str, duration_seconds: float | None, number: int) -> str:
    """A picker button: `🎵 Title (3:18)`, the title cut so the duration always shows."""
    name = " ".join(title.split()) or text(language, "picker_untitled", number=number)
    length = format_duration(duration_seconds)
    suffix = f" ({length})" if length else ""
    return fit(lambda cut: f"🎵 {cut}{suffix}", name, TRACK_LABEL_LIMIT)


def format_credits(amount: Decimal) -> str:
    """A credit balance without trailing zeros or exponent: 100, 12.5, 0.25."""
    if not amount.is_finite():
        return str(amount)
    amount += 0  # turns -0 into 0
    if amount == amount.to_integral_value():
        return f"{amount.quantize(Decimal(1)):f}"
    return f"{amount.normalize():f}"


def render_chat_settings(
    language: str, settings: ChatSettings, default_domain: str | None = None
) -> str:
    """A chat's default author and watermark (the bot-wide default domain when it has none)."""
    not_set = text(language, "settings_not_set")
    domain = settings.domain_name
    if domain is None and default_domain:
        domain = text(language, "settings_bot_default", value=default_domain)
    return text(
        language, "settings_summary", author=settings.author or not_set, domain=domain or not_set
    )


def provider_detail(reason: str | None, limit: int = 200) -> str:
    """`: <the provider's words>` to end a sentence with (one line, cut at `limit`), or ""."""
    reason = " ".join((reason or "").split())
    if not reason:
        return ""
    return f": {shorten(reason, limit)}"
