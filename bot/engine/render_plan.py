"""The hand-over between a render's preparation and its rendering (docs/architecture.md §8.2):
the `RenderPlan` stored as JSON in `jobs.render_plan`, the failures both sides raise, and the
ports rendering reaches the chat through.

Pure: no I/O; must not import Telegram, bot.text, handlers or the provider client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Final, Protocol

from bot.domain import Look, LyricStyle
from bot.lyrics.codec import BadStoredLyrics, lyrics_from_json, lyrics_to_json
from bot.lyrics.model import AlignedLyrics, SecondLine
from bot.rendering import QueuePosition
from storage.jobs import VARIANT_LIVE, VARIANT_LOOP, Job

PLAN_VERSION: Final = 1


class SourceUnavailable(Exception):
    """The track's audio cannot be had (no record, no audio URL, refused download)."""


class SourceTransient(Exception):
    """The sources could not be had now; worth another try (not before `retry_after` s)."""

    def __init__(self, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourcePending(Exception):
    """A source is still being made elsewhere (a karaoke render's vocal separation,
    docs/architecture.md §9.7): look again after `retry_after` s; no render attempt is spent."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RenderRefused(Exception):
    """The render cannot be made as asked and must fail as `kind` (an ErrorKind's value) with
    `detail` for the chat: e.g. a karaoke render whose separation failed, never made from the
    original audio instead (docs/architecture.md §9.7)."""

    def __init__(self, kind: str, detail: str | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class BadPlan(ValueError):
    """A stored plan that is not a RenderPlan of this version."""


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """Everything rendering needs besides the row, fixed once by preparation.

    Either `audio_url` (the music record's audio, with its `cover_url`) or `source_file_id`
    (an audio file sent in the chat) is set. `lyrics` are the provider's aligned lyrics: burnt
    in when `burn_lyrics`, and the teaser's chorus or waveform when `teaser`; the teaser's
    window itself is picked where the audio is (its duration, else its loudness).
    """

    video_format: str
    title: str | None
    author: str | None
    domain: str | None
    audio_url: str | None = None
    cover_url: str | None = None
    source_file_id: str | None = None
    source_file_name: str | None = None
    duration: float | None = None  # the record's duration (the audio's own one rules)
    burn_lyrics: bool = False
    teaser: bool = False
    lyrics: AlignedLyrics | None = None
    # How burnt-in lyrics highlight the sung words (LyricStyle's value); plans stored before
    # there were styles have none and read as the sweep.
    lyric_style: str = LyricStyle.SWEEP.value
    # How the cover and visualisation move (Look's value); plans stored before there were
    # looks have none and read as pulse.
    look: str = Look.PULSE.value
    # A chat's second lines under the lyric lines (docs/architecture.md §9.5); none in plans
    # stored before there were any.
    second_lines: tuple[SecondLine, ...] = ()
    # A sing-along render: a 3-2-1 count-in before the first line and every line after a long
    # gap (docs/architecture.md §9.6); False in plans stored before there was karaoke.
    count_in: bool = False
    # A Canvas loop or live photo (storage.jobs VARIANT_LOOP, VARIANT_LIVE; issue 20): the
    # loop renderer instead of the video's (bot/engine/loops.py); None in plans of videos.
    variant: str | None = None

    def to_json(self) -> str:
        """The plan as JSON for `jobs.render_plan`."""
        body: dict[str, Any] = {"v": PLAN_VERSION}
        body.update(
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if f.name not in {"lyrics", "second_lines"}
        )
        body["lyrics"] = None if self.lyrics is None else json.loads(lyrics_to_json(self.lyrics))
        body["second_lines"] = [[s.start, s.end, s.text] for s in self.second_lines]
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def plan_from_json(body: str) -> RenderPlan:
    """The plan `RenderPlan.to_json` wrote; BadPlan for anything else."""
    try:
        data: Any = json.loads(body)
        if not isinstance(data, dict) or data.pop("v", None) != PLAN_VERSION:
            raise BadPlan("not a render plan of this version")
        lyrics = data.pop("lyrics", None)
        seconds = tuple(
            SecondLine(float(start), float(end), str(text))
            for start, end, text in data.pop("second_lines", [])
        )
        plan = RenderPlan(**data)
        if not isinstance(plan.count_in, bool):
            raise BadPlan("count_in is not a flag")
        if plan.variant not in (None, VARIANT_LOOP, VARIANT_LIVE):
            raise BadPlan(f"unknown variant {plan.variant!r}")
        if not isinstance(plan.video_format, str):
            raise BadPlan("the plan has no format")
        if (plan.audio_url is None) == (plan.source_file_id is None):
            raise BadPlan("the plan names no single audio source")
        LyricStyle(plan.lyric_style)  # ValueError: a style this code does not know
        Look(plan.look)  # and a look
        decoded = None if lyrics is None else lyrics_from_json(json.dumps(lyrics))
    except (ValueError, TypeError, BadStoredLyrics) as exc:
        raise BadPlan(str(exc)) from exc
    return replace(plan, lyrics=decoded, second_lines=seconds)


class RenderPreparer(Protocol):
    """Prepares a render: asks what needs the provider and stores the plan on the row."""

    async def prepare(self, job: Job) -> RenderPlan | None:
        """The plan, stored by compare-and-set; None when the job moved on meanwhile."""
        ...


class RenderProgress(Protocol):
    """One render's place in line and percentage, shown to its chat (best effort)."""

    def queued(self, position: QueuePosition) -> None:
        """Renders running or waiting before this one (the RenderQueue's callback)."""
        ...

    def progress(self, fraction: float) -> None:
        """ffmpeg's progress from 0 to 1 (throttled by the implementation)."""
        ...

    async def close(self) -> None:
        """Stop showing progress: the job's next phase comes next."""
        ...


class ProgressPort(Protocol):
    """Where renders show their progress (the status message, docs/architecture.md §8.3)."""

    def for_job(self, job: Job) -> RenderProgress:
        """A progress display for one render attempt."""
        ...


class ChatFiles(Protocol):
    """Audio files sent in a chat, fetched by their file id."""

    async def save(self, file_id: str, path: Path) -> None:
        """Write the file to `path`; SourceUnavailable or SourceTransient when it fails."""
        ...
