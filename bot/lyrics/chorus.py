"""The chorus teaser's window: where in a track it starts and how long it runs.

From the first `[Chorus]` tag when the lyrics have one; else from the loudest stretch of a
loudness envelope (the provider's `waveformData`, or one the renderer measures from the audio).
Also moves a lyrics timeline into a window, so the teaser's subtitles start at 0. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.lyrics.model import AlignedLyrics, AlignedWord, SecondLine

TEASER_MIN_SECONDS = 15.0
TEASER_MAX_SECONDS = 30.0
LOUDEST_SECONDS = 20.0  # the stretch sought in an envelope when no tag marks the chorus
LEAD_IN_SECONDS = 0.5  # start a little before the chorus's first word: the fade-in covers it

_CHORUS = re.compile(r"(?<![\w-])(chorus|hook|refrain)\b", re.IGNORECASE)
_NOT_CHORUS = re.compile(r"\b(pre|post)[\s-]*chorus", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TeaserWindow:
    """A stretch of the track in seconds: [start, end)."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """How long the teaser runs."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Loudness:
    """A loudness envelope: `levels[i]` covers [i*step, (i+1)*step) s; bigger is louder.

    Any scale will do (linear RMS, peak, dB): only comparisons of window sums matter. The
    renderer can fill it from the audio, e.g. ffmpeg's `astats` RMS level per 0.5 s.
    """

    levels: tuple[float, ...]
    step: float


def is_chorus_tag(tag: str) -> bool:
    """Whether a section tag names a chorus ("Chorus", "Chorus 2", "Hook"; not "Pre-Chorus")."""
    return bool(_CHORUS.search(tag)) and not _NOT_CHORUS.search(tag)


def waveform_loudness(waveform: Sequence[float], duration: float) -> Loudness | None:
    """The provider's waveformData spread evenly over the track; None when there is none."""
    if not waveform or duration <= 0:
        return None
    return Loudness(tuple(waveform), duration / len(waveform))


def teaser_window(
    duration: float, lyrics: AlignedLyrics | None = None, loudness: Loudness | None = None
) -> TeaserWindow:
    """15-30 s from the first chorus, else the loudest stretch, clamped to the track.

    A track shorter than 15 s is used whole. `loudness` is used only when the lyrics carry no
    chorus tag and no waveformData; with neither the teaser starts at 0.
    """
    if duration <= TEASER_MIN_SECONDS:
        return TeaserWindow(0.0, max(duration, 0.0))
    words = lyrics.words if lyrics is not None else ()
    chorus = next((i for i, word in enumerate(words) if any(map(is_chorus_tag, word.tags))), None)
    if chorus is not None:
        start = max(words[chorus].start - LEAD_IN_SECONDS, 0.0)
        section_end = next((word.start for word in words[chorus + 1 :] if word.tags), None)
        length = TEASER_MAX_SECONDS if section_end is None else section_end - start
    else:
        envelope = waveform_loudness(lyrics.waveform, duration) if lyrics else None
        envelope = envelope or loudness
        length = LOUDEST_SECONDS
        start = loudest_start(envelope, length) if envelope else 0.0
    length = min(max(length, TEASER_MIN_SECONDS), TEASER_MAX_SECONDS)
    if start + length > duration:  # keep the start if 15 s remain, else move it back
        length = max(TEASER_MIN_SECONDS, duration - start)
        start = duration - length
    return TeaserWindow(start, min(start + length, duration))


def loudest_start(loudness: Loudness, length: float) -> float:
    """Where the loudest `length` seconds of the envelope begin (the earliest on a tie)."""
    levels = [level if math.isfinite(level) else 0.0 for level in loudness.levels]
    span = max(1, round(length / loudness.step)) if loudness.step > 0 else len(levels)
    if len(levels) <= span:
        return 0.0
    total = best = sum(levels[:span])
    best_index = 0
    for index in range(1, len(levels) - span + 1):
        total += levels[index + span - 1] - levels[index - 1]
        if total > best + 1e-9:
            best, best_index = total, index
    return best_index * loudness.step


def clip_lyrics(lyrics: AlignedLyrics, window: TeaserWindow) -> AlignedLyrics:
    """The words sung inside `window`, on a timeline that starts at the window's start.

    A word that starts before the window is dropped (it would be cut); the last word's end is
    cut at the window's end. The first kept word starts a line. The waveform is not carried.
    """
    kept: list[AlignedWord] = []
    for word in lyrics.words:
        if window.start <= word.start < window.end:
            shifted = replace(
                word,
                start=word.start - window.start,
                end=min(word.end, window.end) - window.start,
                break_before=word.break_before or not kept,
            )
            kept.append(shifted)
    return AlignedLyrics(tuple(kept), lyrics.hoot_cer, (), lyrics.is_streamed)


def clip_second_lines(
    second_lines: Sequence[SecondLine], start: float, end: float
) -> tuple[SecondLine, ...]:
    """The second lines of a teaser from `start` to `end`, moved onto its timeline as
    `clip_lyrics` moves the words: those that overlap it, cut to it (a line whose first words
    fall before the window keeps its second line under the words that remain)."""
    return tuple(
        replace(second, start=max(second.start, start) - start, end=min(second.end, end) - start)
        for second in second_lines
        if second.start < end and second.end > start
    )
