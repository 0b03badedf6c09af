"""The chorus teaser window, from tags or loudness, and lyrics moved into it."""

from __future__ import annotations

import pytest

from bot.lyrics.chorus import (
    Loudness,
    TeaserWindow,
    clip_lyrics,
    is_chorus_tag,
    loudest_start,
    teaser_window,
    waveform_loudness,
)
from bot.lyrics.model import AlignedLyrics, AlignedWord


def _song(*sections: tuple[str, float], waveform: tuple[float, ...] = ()) -> AlignedLyrics:
    """Two words per section: the tagged first word at the given time, one more 1 s later."""
    words: list[AlignedWord] = []
    for tag, at in sections:
        words.append(AlignedWord(f"{tag}-a", at, at + 0.5, tags=(tag,), break_before=True))
        words.append(AlignedWord(f"{tag}-b", at + 1.0, at + 1.5))
    return AlignedLyrics(tuple(words), 0.2, waveform)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Chorus", True),
        ("chorus 2", True),
        ("Final Chorus", True),
        ("Hook", True),
        ("Refrain", True),
        ("Pre-Chorus", False),
        ("Pre Chorus", False),
        ("PreChorus", False),
        ("Post-Chorus", False),
        ("Verse", False),
        ("Choruses of angels", False),
    ],
)
def test_chorus_tags(tag: str, expected: bool) -> None:
    assert is_chorus_tag(tag) is expected


def test_teaser_starts_at_the_first_chorus_and_runs_to_the_next_section() -> None:
    song = _song(("Verse", 10), ("Pre-Chorus", 30), ("Chorus", 40), ("Verse 2", 62), ("Chorus", 90))
    assert teaser_window(180, song) == TeaserWindow(39.5, 62.0)


@pytest.mark.parametrize(
    ("next_section", "expected_end"),
    [(45.0, 54.5), (100.0, 69.5), (None, 69.5)],  # at least 15 s, at most 30 s
)
def test_teaser_length_is_clamped_to_15_30_s(
    next_section: float | None, expected_end: float
) -> None:
    sections = [("Verse", 5.0), ("Chorus", 40.0)]
    if next_section is not None:
        sections.append(("Bridge", next_section))
    assert teaser_window(180, _song(*sections)) == TeaserWindow(39.5, expected_end)


def test_a_late_chorus_is_clamped_to_the_track() -> None:
    assert teaser_window(100, _song(("Chorus", 80))) == TeaserWindow(79.5, 100.0)
    assert teaser_window(100, _song(("Chorus", 95))) == TeaserWindow(85.0, 100.0)


@pytest.mark.parametrize("duration", [3.0, 14.9, 15.0])
def test_a_short_track_is_used_whole(duration: float) -> None:
    assert teaser_window(duration, _song(("Chorus", 2))) == TeaserWindow(0.0, duration)


def test_without_tags_the_loudest_stretch_of_the_waveform() -> None:
    # 120 s in 60 samples of 2 s: loud from 70 s to 90 s.
    waveform = tuple(1.0 if 35 <= i < 45 else 0.2 for i in range(60))
    song = AlignedLyrics((AlignedWord("la", 3, 4),), 0.2, waveform)
    assert teaser_window(120, song) == TeaserWindow(70.0, 90.0)


def test_without_lyrics_the_renderer_envelope_decides() -> None:
    loudness = Loudness(tuple(0.9 if 20 <= i < 60 else 0.1 for i in range(240)), 0.5)
    assert teaser_window(120, None, loudness) == TeaserWindow(10.0, 30.0)
    assert teaser_window(120, AlignedLyrics(), loudness) == TeaserWindow(10.0, 30.0)


def test_tags_win_over_loudness() -> None:
    loudness = Loudness((0.0, 0.0, 9.0, 9.0), 30.0)
    assert teaser_window(120, _song(("Chorus", 20)), loudness).start == 19.5


def test_with_nothing_to_go_on_the_teaser_starts_at_zero() -> None:
    assert teaser_window(120) == TeaserWindow(0.0, 20.0)


def test_loudest_start_prefers_the_earliest_tie_and_copes_with_short_envelopes() -> None:
    assert loudest_start(Loudness((1.0, 1.0, 1.0, 1.0), 1.0), 2.0) == 0.0
    assert loudest_start(Loudness((0.0, 5.0, 0.0, 5.0, 5.0), 1.0), 2.0) == 3.0
    assert loudest_start(Loudness((1.0,), 1.0), 20.0) == 0.0
    assert loudest_start(Loudness((0.0, float("nan"), 2.0), 1.0), 1.0) == 2.0


def test_waveform_loudness_spreads_samples_over_the_track() -> None:
    assert waveform_loudness((0.0, 1.0, 0.5, 0.75), 200.0) == Loudness((0.0, 1.0, 0.5, 0.75), 50.0)
    assert waveform_loudness((), 200.0) is None


def test_clip_moves_the_lyrics_into_the_window() -> None:
    song = AlignedLyrics(
        (
            AlignedWord("before", 38.0, 40.2),  # starts before the window: dropped
            AlignedWord("in", 40.5, 41.0),
            AlignedWord("Chorus", 42.0, 42.5, tags=("Chorus",), break_before=True),
            AlignedWord("cut", 69.0, 71.0),  # ends after the window: cut at its end
            AlignedWord("after", 70.0, 71.0),
        ),
        hoot_cer=0.3,
        waveform=(1.0, 2.0),
        is_streamed=True,
    )
    clipped = clip_lyrics(song, TeaserWindow(40.0, 70.0))
    assert clipped == AlignedLyrics(
        (
            AlignedWord("in", 0.5, 1.0, break_before=True),
            AlignedWord("Chorus", 2.0, 2.5, tags=("Chorus",), break_before=True),
            AlignedWord("cut", 29.0, 30.0),
        ),
        hoot_cer=0.3,
        is_streamed=True,
    )
