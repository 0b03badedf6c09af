"""Domain values shared by every layer: providers, job states, jobs, upstream results. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Provider(StrEnum):
    """A reseller of the Suno "Create Music Video" API (docs/providers.md §1)."""

    KIE = "kie"
    APIKLEY = "apikley"
    SUNOAPI = "sunoapi"
    APIBOX = "apibox"
    VIDGO = "vidgo"


class Family(StrEnum):
    """Providers that speak the same dialect (docs/providers.md §1)."""

    KIE = "kie"
    SUNOAPI = "sunoapi"
    UNIFIED = "unified"


PROVIDER_FAMILY: dict[Provider, Family] = {
    Provider.KIE: Family.KIE,
    Provider.APIKLEY: Family.KIE,
    Provider.SUNOAPI: Family.SUNOAPI,
    Provider.APIBOX: Family.SUNOAPI,
    Provider.VIDGO: Family.UNIFIED,
}

DEFAULT_BASE_URL: dict[Provider, str] = {
    Provider.KIE: "https://api.kie.ai",
    Provider.APIKLEY: "https://api.apikley.ru",
    Provider.SUNOAPI: "https://api.sunoapi.org",
    Provider.APIBOX: "https://api.api.box",
    Provider.VIDGO: "https://api.vidgo.ai",
}

# How long the provider keeps the generated video link (docs/providers.md §7.1; vidgo unpublished).
LINK_RETENTION_DAYS: dict[Family, int] = {Family.KIE: 14, Family.SUNOAPI: 15, Family.UNIFIED: 14}


@dataclass(frozen=True, slots=True)
class ProviderRates:
    """How fast we may call a provider: (calls, per seconds) for creates and for details."""

    creates: tuple[int, float]
    details: tuple[int, float]


# KIE: 20 new tasks per 10 s per account, 10 queries/s per key; SUNOAPI: 20 requests per
# 10 s; vidgo publishes none, so it gets the strictest documented figures (docs/providers.md §6.2).
PROVIDER_RATES: dict[Family, ProviderRates] = {
    Family.KIE: ProviderRates(creates=(20, 10.0), details=(10, 1.0)),
    Family.SUNOAPI: ProviderRates(creates=(20, 10.0), details=(10, 1.0)),
    Family.UNIFIED: ProviderRates(creates=(20, 10.0), details=(10, 1.0)),
}

MAX_AUTHOR_LENGTH = 50
MAX_DOMAIN_LENGTH = 50


class LyricStyle(StrEnum):
    """How a render's karaoke lyrics highlight the sung words (`/lyrics sweep|pop`,
    docs/architecture.md §9.2)."""

    SWEEP = "sweep"  # a left-to-right fill through each word (the default)
    POP = "pop"  # sung, singing, to come: the singing word grows

    @property
    def stored(self) -> str | None:
        """The value for a `lyric_style` column: NULL for the default, so rows written before
        there were styles mean the same."""
        return None if self is LyricStyle.SWEEP else self.value

    @classmethod
    def from_stored(cls, value: str | None) -> LyricStyle:
        """The style a `lyric_style` column holds (NULL, or a name this code no longer
        knows: the sweep)."""
        try:
            return cls(value) if value is not None else cls.SWEEP
        except ValueError:
            return cls.SWEEP


class Look(StrEnum):
    """How a render's cover and visualisation move (`/style`, docs/architecture.md §9.3)."""

    PULSE = "pulse"  # the cover pulses on the beats over the waveform (the default)
    BARS = "bars"  # the same pulse over spectrum bars instead of the waveform
    CALM = "calm"  # a still cover over the waveform: no beat motion

    @property
    def stored(self) -> str | None:
        """The value for a `look` column: NULL for the default, so rows written before there
        were looks mean the same."""
        return None if self is Look.PULSE else self.value

    @classmethod
    def from_stored(cls, value: str | None) -> Look:
        """The look a `look` column holds (NULL, or a name this code no longer knows: pulse)."""
        try:
            return cls(value) if value is not None else cls.PULSE
        except ValueError:
            return cls.PULSE


class JobState(StrEnum):
    """Where a job is in its life (docs/architecture.md §4.2)."""

    SUBMITTING = "submitting"  # row written; the upstream has not confirmed a video task id yet
    PENDING = "pending"  # the upstream accepted; waiting for the video
    SUCCEEDED = "succeeded"  # video URL known; delivery to Telegram is due
    DELIVERED = "delivered"  # the video (or its link) is in the chat
    FAILED = "failed"  # the upstream refused or failed; the user is told
    TIMED_OUT = "timed_out"  # still pending after JOB_TIMEOUT_MINUTES
    UNDELIVERABLE = "undeliverable"  # the chat cannot be posted to (blocked, kicked)


ACTIVE_STATES = frozenset({JobState.SUBMITTING, JobState.PENDING, JobState.SUCCEEDED})


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """What the upstream needs to render one video."""

    task_id: str
    audio_id: str
    callback_url: str
    author: str | None = None
    domain_name: str | None = None


class VideoStatus(StrEnum):
    """The upstream's verdict on a video task, reduced to what the job engine acts on."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class VideoResult:
    """A parsed details (poll) response or callback body."""

    task_id: str | None  # the video task id the body speaks of, when it names one
    status: VideoStatus
    video_url: str | None = None
    error: str | None = None  # the provider's failure text, for logs and the user
    raw_status: str | None = None  # the provider's own status value, for logs
    completed_at: datetime | None = None
    # What a details answer says the task was made for, when the dialect tells (KIE and
    # SUNOAPI families): ties a task id named by an unsigned callback to its job.
    callback_url: str | None = None
    audio_id: str | None = None


class SeparationStatus(StrEnum):
    """A vocal separation task's state (docs/providers.md §5.2), as karaoke acts on it."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SeparationResult:
    """A parsed vocal separation details answer: the instrumental (and vocals) once done."""

    status: SeparationStatus
    instrumental_url: str | None = None
    vocal_url: str | None = None
    error: str | None = None  # the provider's failure text or flag, for logs and the user
    raw_status: str | None = None


class TrackListStatus(StrEnum):
    """Whether a music task's tracks can be offered (docs/providers.md §5)."""

    READY = "ready"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Track:
    """One track of a music generation task."""

    audio_id: str
    title: str
    duration_seconds: float | None
    # The music record's media, for our own renderer (docs/providers.md §5); None when absent.
    audio_url: str | None = None
    image_url: str | None = None
    tags: str | None = None


@dataclass(frozen=True, slots=True)
class TrackList:
    """The tracks of a music task, or why there are none yet."""

    status: TrackListStatus
    tracks: tuple[Track, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Credits:
    """Remaining upstream credits."""

    remaining: Decimal
