"""A track's sections: from the lyrics' `[Verse]`/`[Chorus]` tags, else from the audio's energy.

Tags win when the timestamped lyrics carry any (bot/lyrics/model.py keeps them on the first word
of each section); a track without tags is cut where its loudness changes for good, louder parts
called choruses, as the teaser finds its window (bot/lyrics/chorus.py). Section starts are moved
onto the nearest downbeat (else beat) when the beats are trusted. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.lyrics.chorus import is_chorus_tag
from bot.lyrics.model import AlignedLyrics
from bot.music.analysis import FPS, Floats

INTRO, VERSE, PRE_CHORUS, CHORUS, BRIDGE, BREAK, OUTRO, OTHER = (
    "intro", "verse", "pre-chorus", "chorus", "bridge", "break", "outro", "other"
)  # fmt: skip
KINDS = frozenset({INTRO, VERSE, PRE_CHORUS, CHORUS, BRIDGE, BREAK, OUTRO, OTHER})
INTRO_MIN_SECONDS = 2.0  # a first tag later than this leaves an untagged intro before it
STEP_SECONDS = 0.5  # the energy envelope's resolution
SMOOTH_SECONDS = 2.0
NOVELTY_SECONDS = 8.0  # energy compared over this much before and after a candidate boundary
MIN_SECTION_SECONDS = 8.0
MIN_CHANGE_DB = 2.0  # a boundary needs at least this change of mean level

_PATTERNS = (
    (PRE_CHORUS, re.compile(r"\bpre[\s-]*(chorus|hook)", re.IGNORECASE)),
    (INTRO, re.compile(r"\bintro", re.IGNORECASE)),
    (OUTRO, re.compile(r"\b(outro|ending|end|fade)\b", re.IGNORECASE)),
    (BRIDGE, re.compile(r"\bbridge", re.IGNORECASE)),
    (BREAK, re.compile(r"\b(break|instrumental|solo|interlude|drop)", re.IGNORECASE)),
    (VERSE, re.compile(r"\bverse|куплет", re.IGNORECASE)),
)


@dataclass(frozen=True, slots=True)
class Section:
    """[start, end) seconds; `kind` one of KINDS; `label` the tag as written ("" from energy);
    `repeat` counts earlier sections of the same kind; `energy` is its mean RMS relative to the
    loudest section's (0..1)."""

    start: float
    end: float
    kind: str
    label: str = ""
    repeat: int = 0
    energy: float = 0.0


def section_kind(tag: str) -> str:
    """What a tag names: "Chorus 2" -> chorus, "Pre-Chorus" -> pre-chorus, "Verse 1" -> verse."""
    for kind, pattern in _PATTERNS:
        if pattern.search(tag):
            return kind
    return CHORUS if is_chorus_tag(tag) else OTHER


def tagged_starts(lyrics: AlignedLyrics) -> list[tuple[float, str]]:
    """(start, tag) of each tagged word, the last tag of a word winning; empty without tags."""
    return [(word.start, word.tags[-1]) for word in lyrics.words if word.tags]


def sections_from_tags(
    starts: Sequence[tuple[float, str]], duration: float, grid: Sequence[float] = ()
) -> list[Section]:
    """Sections from tag starts; an intro from 0 when the first tag comes late."""
    pieces: list[tuple[float, str, str]] = []
    for at, tag in starts:
        start = snap(at, grid)
        if pieces and start <= pieces[-1][0]:  # two tags a beat apart: the later one names it
            pieces[-1] = (pieces[-1][0], section_kind(tag), tag)
        else:
            pieces.append((start, section_kind(tag), tag))
    if not pieces:
        return []
    if pieces[0][0] > INTRO_MIN_SECONDS:
        pieces.insert(0, (0.0, INTRO, ""))
    else:
        pieces[0] = (0.0, pieces[0][1], pieces[0][2])
    return _finish(pieces, duration)


def sections_from_energy(rms: Floats, duration: float, grid: Sequence[float] = ()) -> list[Section]:
    """Sections where the smoothed level changes by MIN_CHANGE_DB or more for a while.

    Louder sections than the midpoint of the quietest and loudest are choruses, the others
    verses; a quiet first (last) one is the intro (outro).
    """
    levels = _levels_db(rms)
    span = round(NOVELTY_SECONDS / STEP_SECONDS)
    gap = round(MIN_SECTION_SECONDS / STEP_SECONDS)
    boundaries: list[int] = []
    if len(levels) > 2 * gap:
        novelty = np.zeros(len(levels))
        cumulative = np.concatenate(([0.0], np.cumsum(levels)))
        for index in range(gap, len(levels) - gap + 1):
            before = (cumulative[index] - cumulative[max(0, index - span)]) / min(span, index)
            after_end = min(len(levels), index + span)
            after = (cumulative[after_end] - cumulative[index]) / (after_end - index)
            novelty[index] = abs(after - before)
        while True:
            best = int(np.argmax(novelty))
            if novelty[best] < MIN_CHANGE_DB:
                break
            boundaries.append(best)
            novelty[max(0, best - gap) : best + gap] = 0.0
    pieces = [(0.0, VERSE, "")]
    for index in sorted(boundaries):
        pieces.append((snap(index * STEP_SECONDS, grid), VERSE, ""))
    sections = _finish(pieces, duration)
    return _label_by_energy(sections, levels)


def snap(at: float, grid: Sequence[float]) -> float:
    """`at` moved onto the nearest time of `grid` (downbeats or beats) when one is near enough:
    within half the grid's median spacing."""
    if len(grid) < 2:
        return at
    times = np.asarray(grid)
    nearest = float(times[np.argmin(np.abs(times - at))])
    reach = 0.5 * float(np.median(np.diff(times)))
    return nearest if abs(nearest - at) <= reach else at


def with_energy(sections: Sequence[Section], rms: Floats) -> list[Section]:
    """Each section's mean RMS relative to the loudest section's (0..1)."""
    means = []
    for section in sections:
        part = rms[
            int(section.start * FPS) : max(int(section.end * FPS), int(section.start * FPS) + 1)
        ]
        means.append(float(part.mean()) if len(part) else 0.0)
    loudest = max(means, default=0.0)
    return [
        Section(
            s.start, s.end, s.kind, s.label, s.repeat, round(m / loudest, 3) if loudest else 0.0
        )
        for s, m in zip(sections, means, strict=True)
    ]


def _levels_db(rms: Floats) -> Floats:
    per_step = round(STEP_SECONDS * FPS)
    steps = len(rms) // per_step
    if steps == 0:
        return np.zeros(0)
    power = (rms[: steps * per_step] ** 2).reshape(steps, per_step).mean(axis=1)
    smooth = round(SMOOTH_SECONDS / STEP_SECONDS)
    power = np.convolve(power, np.ones(smooth) / smooth, "same")
    return 10.0 * np.log10(np.maximum(power, max(float(power.max()), 1e-12) * 1e-6))


def _label_by_energy(sections: list[Section], levels: Floats) -> list[Section]:
    if len(sections) < 2:
        return sections
    means = [
        float(levels[int(s.start / STEP_SECONDS) : max(int(s.end / STEP_SECONDS), 1)].mean())
        for s in sections
    ]
    middle = (min(means) + max(means)) / 2
    pieces = []
    for index, (section, level) in enumerate(zip(sections, means, strict=True)):
        kind = CHORUS if level > middle else VERSE
        if kind == VERSE and index == 0:
            kind = INTRO if len(sections) > 2 else VERSE
        elif kind == VERSE and index == len(sections) - 1 and len(sections) > 2:
            kind = OUTRO
        pieces.append((section.start, kind, ""))
    return _finish(pieces, sections[-1].end)


def _finish(pieces: Sequence[tuple[float, str, str]], duration: float) -> list[Section]:
    """Ends from the next start, repeats counted per kind; empty sections dropped."""
    seen: dict[str, int] = {}
    sections = []
    for index, (start, kind, label) in enumerate(pieces):
        end = pieces[index + 1][0] if index + 1 < len(pieces) else duration
        if end - start <= 0.0:
            continue
        sections.append(Section(round(start, 3), round(end, 3), kind, label, seen.get(kind, 0)))
        seen[kind] = seen.get(kind, 0) + 1
    return sections
