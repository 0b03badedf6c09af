"""A track's analysis as one value with a JSON form, and the call that makes it from audio.

`analyse_track` decodes the audio with our ffmpeg (bot/rendering/pcm.py) and runs the numpy
work in a thread, so the event loop never waits on it (docs/architecture.md §9.1).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.lyrics.model import AlignedLyrics
from bot.music.analysis import FPS, PULSE_CONFIDENCE, RATE, envelopes, track_beats
from bot.music.sections import (
    KINDS,
    Section,
    sections_from_energy,
    sections_from_tags,
    tagged_starts,
    with_energy,
)
from bot.rendering import PCM_RATE, decode_pcm

if TYPE_CHECKING:
    from bot.rendering.runner import Ffmpeg

assert PCM_RATE == RATE, "the decode rate is the tracker's"
ANALYSIS_VERSION = 1  # bump when the method changes: stored analyses of older versions are redone
SECTIONS_FROM_TAGS, SECTIONS_FROM_ENERGY = "tags", "energy"


@dataclass(frozen=True, slots=True)
class TrackAnalysis:
    """Tempo (BPM, 0 when none), beat and downbeat times (s), sections, confidence (0..1)."""

    tempo: float
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]
    sections: tuple[Section, ...]
    confidence: float
    duration: float = 0.0
    sections_from: str = SECTIONS_FROM_ENERGY
    version: int = ANALYSIS_VERSION

    @property
    def pulse(self) -> bool:
        """Whether the beats are trusted enough for beat motion (rubato and ambient are not)."""
        return self.confidence >= PULSE_CONFIDENCE and len(self.beats) >= 2

    def to_json(self) -> str:
        """Compact JSON, times in milliseconds' precision."""
        return json.dumps(
            {
                "v": self.version,
                "tempo": self.tempo,
                "beats": list(self.beats),
                "downbeats": list(self.downbeats),
                "sections": [
                    [s.start, s.end, s.kind, s.label, s.repeat, s.energy] for s in self.sections
                ],
                "confidence": self.confidence,
                "duration": self.duration,
                "sections_from": self.sections_from,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TrackAnalysis:
        """The value `to_json` wrote; ValueError on anything else."""
        try:
            data = json.loads(text)
            sections = tuple(
                Section(_num(s), _num(e), str(k), str(label), int(r), _num(g))
                for s, e, k, label, r, g in data["sections"]
            )
            analysis = cls(
                tempo=_num(data["tempo"]),
                beats=tuple(map(_num, data["beats"])),
                downbeats=tuple(map(_num, data["downbeats"])),
                sections=sections,
                confidence=_num(data["confidence"]),
                duration=_num(data["duration"]),
                sections_from=str(data["sections_from"]),
                version=int(data["v"]),
            )
        except (KeyError, TypeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
            raise ValueError(f"not a stored track analysis: {error}") from None
        if any(s.kind not in KINDS for s in sections):
            raise ValueError("not a stored track analysis: unknown section kind")
        return analysis


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return float(value)


def analyse_samples(samples: np.ndarray[Any, Any], lyrics: AlignedLyrics | None) -> TrackAnalysis:
    """The analysis of mono float samples at RATE Hz (CPU-bound: call it off the event loop)."""
    duration = round(len(samples) / RATE, 3)
    # A corrupt decode could hold NaN or inf: they would poison every sum after them.
    clean = np.nan_to_num(np.asarray(samples, dtype=np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    found = envelopes(clean)
    beats = track_beats(found.onset)
    trusted = beats.confidence >= PULSE_CONFIDENCE
    grid = (beats.downbeats or beats.beats) if trusted else ()
    starts = tagged_starts(lyrics) if lyrics is not None else []
    if starts:
        sections = sections_from_tags(starts, duration, grid)
        source = SECTIONS_FROM_TAGS
    else:
        sections = sections_from_energy(found.rms, duration, grid)
        source = SECTIONS_FROM_ENERGY
    return TrackAnalysis(
        tempo=beats.tempo,
        beats=beats.beats,
        downbeats=beats.downbeats,
        sections=tuple(with_energy(sections, found.rms)),
        confidence=beats.confidence,
        duration=duration,
        sections_from=source,
    )


def analyse_pcm(pcm: bytes, lyrics: AlignedLyrics | None) -> TrackAnalysis:
    """The analysis of raw little-endian float32 mono PCM at RATE Hz."""
    return analyse_samples(np.frombuffer(pcm, dtype="<f4"), lyrics)


async def analyse_track(
    ffmpeg: Ffmpeg, audio: Path, lyrics: AlignedLyrics | None = None
) -> TrackAnalysis:
    """Decode `audio` with ffmpeg and analyse it in a worker thread."""
    pcm = await decode_pcm(ffmpeg, audio)
    return await asyncio.to_thread(analyse_pcm, pcm, lyrics)


__all__ = ["FPS", "TrackAnalysis", "analyse_pcm", "analyse_samples", "analyse_track"]
