"""The job engine's vocabulary: phases, failure kinds, the ports it needs, its configuration.

No I/O and no Telegram types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.domain import Family, Provider
from bot.engine.callback_tokens import placeholder_hash
from storage.jobs import KIND_RENDER, Job, NewJob


class Phase(StrEnum):
    """What the status message should say about a job."""

    SUBMITTING = "submitting"
    QUEUED = "queued"
    RETRYING = "retrying"
    MAINTENANCE = "maintenance"
    RENDERING = "rendering"
    UPLOADING = "uploading"
    DELIVERED = "delivered"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    UNDELIVERABLE = "undeliverable"
    FALLBACK = "fallback"  # the provider failed; our own renderer makes the video (issue 10)


class ErrorKind(StrEnum):
    """Why a job failed; the Telegram layer turns it into a sentence."""

    CREDITS = "credits"
    UNAUTHORIZED = "unauthorized"
    INVALID_TRACK = "invalid_track"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    PROVIDER_FAILED = "provider_failed"
    REJECTED = "rejected"
    ALREADY_EXISTS = "already_exists"
    TIMEOUT = "timeout"
    NOT_SUBMITTED = "not_submitted"  # still queued at JOB_TIMEOUT_MINUTES: never sent, no credits
    # Our own renderer (issue 10).
    RENDER_FAILED = "render_failed"  # ffmpeg failed or ran out of time
    TRACK_TOO_LONG = "track_too_long"  # cannot fit into the size budget
    SOURCE_UNAVAILABLE = "source_unavailable"  # the track's audio could not be fetched or read
    CANCELLED = "cancelled"  # the owner or a chat admin pressed Cancel
    # Karaoke (issue 19, docs/architecture.md §9.7): never the original audio instead.
    KARAOKE_FAILED = "karaoke_failed"  # the vocal separation failed or took too long
    KARAOKE_CREDITS = "karaoke_credits"  # the provider is out of credits for the separation
    KARAOKE_NO_LYRICS = "karaoke_no_lyrics"  # an instrumental track: nothing to sing
    LIVE_REFUSED = "live_refused"  # Telegram took no live photo: a teaser instead (issue 20)


class StatusNotifier(Protocol):
    """Shows a job's phase to its chat (the one status message). Best effort."""

    async def show(self, job: Job, phase: Phase) -> bool:
        """True when the status message now shows `phase`."""
        ...


class AdminAlerts(Protocol):
    """Tells the bot's admins about problems only they can fix."""

    async def alert(self, kind: ErrorKind, detail: str) -> None: ...


class CallbackVerdict(StrEnum):
    """How the HTTP layer should answer a provider callback (docs/architecture.md §4.7)."""

    ACCEPTED = "accepted"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 - a verdict name, not a password
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The knobs of the job engine, taken from Settings."""

    provider: Provider
    family: Family
    public_base_url: str | None
    poll_interval: float
    job_timeout: timedelta
    hmac_key: str | None = None
    submit_retry_window: timedelta = timedelta(minutes=10)
    lease_seconds: float = 120.0
    signature_max_age: float = 300.0
    render_fallback: bool = False  # RENDER_FALLBACK: render locally when the provider fails

    @property
    def callbacks_enabled(self) -> bool:
        """Whether the upstream can reach our callback endpoint."""
        return self.public_base_url is not None


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A validated `/video` request with where to answer it."""

    chat_id: int
    thread_id: int | None
    user_id: int | None
    command_message_id: int | None
    status_message_id: int | None
    language: str
    task_id: str
    audio_id: str
    author: str | None
    domain_name: str | None
    title: str | None = None
    update_id: int | None = None  # the Telegram update that asked for it (intake dedupe)
    kind: str = "provider"  # "render": our own renderer makes it (issue 10)
    video_format: str | None = None
    source_file_id: str | None = None  # an uploaded audio file to render
    source_file_name: str | None = None
    lyrics: bool = True  # a render burns in the lyrics (issue 11)
    teaser: bool = False  # a render of the chorus only
    karaoke: bool = False  # the sing-along render over the instrumental (issue 19)
    lyric_style: str | None = None  # how they highlight: LyricStyle.stored (issue 18)
    look: str | None = None  # how the cover and visualisation move: Look.stored (issue 18)
    lyrics_revision: str | None = None  # the chat's lyric correction (issue 19, §9.5)
    variant: str | None = None  # a Canvas loop or live photo (issue 20); None: a video


def stand_in_render(job: Job, *, due: datetime, **fields: Any) -> NewJob:
    """A render job standing in for `job` (a provider's failed video, a refused live photo):
    the same chat, thread, person, messages, language and track, due at `due`, with a fresh
    placeholder token hash (its own is derived once it has an id) and `fields` for the rest.
    `fallback_of` ties it to `job`, so it is not counted in the quota again."""
    return NewJob(
        chat_id=job.chat_id,
        thread_id=job.thread_id,
        user_id=job.user_id,
        command_message_id=job.command_message_id,
        status_message_id=job.status_message_id,
        language=job.language,
        provider=job.provider,
        task_id=job.task_id,
        audio_id=job.audio_id,
        callback_token_hash=placeholder_hash(),
        next_poll_at=due,
        title=job.title,
        kind=KIND_RENDER,
        fallback_of=job.id,
        **fields,
    )
