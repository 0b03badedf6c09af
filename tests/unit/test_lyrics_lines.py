"""Lyrics tokens into words with structure, display lines, and the presentation verdict."""

from __future__ import annotations

import pytest

from bot.lyrics.lines import (
    POOR_FAILED_SHARE,
    POOR_HOOT_CER,
    LyricLine,
    Presentation,
    build_lines,
    join_words,
    presentation,
    text_width,
)
from bot.lyrics.model import AlignedLyrics, AlignedWord, WordToken, aligned_lyrics


def texts(lines: tuple[LyricLine, ...]) -> list[str]:
    return [line.text for line in lines]


def test_tags_and_breaks_become_structure_and_are_never_shown() -> None:
    lyrics = aligned_lyrics(
        [
            WordToken("[Intro]\n[Verse 1]\nWaggin' ", 1.0, 1.4),
            WordToken("tail\n", 1.4, 2.0),
            WordToken("[Chorus]", 2.5, 2.5),  # a tag alone in its token, with a timing
            WordToken("\r\nWoof   woof ", 3.0, 3.5),
            WordToken("end\n[Bridge]\nmore", 4.0, 4.5),  # two texts in one token share a time
            WordToken("[ Pre  Chorus ]\nla", 5.0, 5.2),
            WordToken("[]lo", 6.0, 6.2),
        ]
    )
    assert lyrics.words == (
        AlignedWord("Waggin'", 1.0, 1.4, tags=("Intro", "Verse 1"), break_before=True),
        AlignedWord("tail", 1.4, 2.0),
        AlignedWord("Woof woof", 3.0, 3.5, tags=("Chorus",), break_before=True),
        AlignedWord("end more", 4.0, 4.5),
        AlignedWord("la", 5.0, 5.2, tags=("Bridge", "Pre Chorus"), break_before=True),
        AlignedWord("lo", 6.0, 6.2, break_before=True),
    )
    assert all("[" not in word.text and "\n" not in word.text for word in lyrics.words)


def test_times_never_go_backwards() -> None:
    lyrics = aligned_lyrics([WordToken("a", 2.0, 2.5), WordToken("b", 1.0, 0.5)])
    assert [(w.start, w.end) for w in lyrics.words] == [(2.0, 2.5), (2.0, 2.0)]


def test_empty_tokens_make_an_instrumental() -> None:
    assert aligned_lyrics([WordToken(" \n", 1.0, 2.0)]).instrumental
    assert AlignedLyrics().instrumental


def _words(*spec: tuple[str, float, float]) -> tuple[AlignedWord, ...]:
    return tuple(AlignedWord(text, start, end) for text, start, end in spec)


def test_lines_break_at_source_breaks_tags_and_pauses() -> None:
    words = (
        AlignedWord("one", 0.0, 0.4),
        AlignedWord("two", 0.4, 0.8),
        AlignedWord("three", 1.3, 1.6),  # 0.5 s pause: not longer than half a second
        AlignedWord("four", 2.11, 2.4),  # 0.51 s pause: a new line
        AlignedWord("five", 2.4, 2.8, break_before=True),
        AlignedWord("six", 2.8, 3.0, tags=("Chorus",), break_before=True),
        AlignedWord("seven", 3.0, 3.3),
    )
    assert texts(build_lines(words, 100)) == ["one two three", "four", "five", "six seven"]


def test_lines_break_to_fit_the_width() -> None:
    words = _words(("aaaa", 0, 1), ("bbbb", 1, 2), ("cccc", 2, 3), ("dddd", 3, 4))
    width_of_two = text_width("aaaa bbbb")
    assert texts(build_lines(words, width_of_two)) == ["aaaa bbbb", "cccc dddd"]
    assert texts(build_lines(words, width_of_two - 0.01)) == ["aaaa", "bbbb", "cccc", "dddd"]


def test_a_word_wider_than_a_line_gets_a_line_of_its_own() -> None:
    words = _words(("a", 0, 1), ("Donaudampfschifffahrt", 1, 2), ("b", 2, 3))
    assert texts(build_lines(words, 3)) == ["a", "Donaudampfschifffahrt", "b"]


def test_line_times_come_from_first_and_last_word() -> None:
    (line,) = build_lines(_words(("a", 1.5, 1.7), ("b", 1.8, 2.6)), 100)
    assert (line.start, line.end) == (1.5, 2.6)


def test_cjk_words_join_without_spaces() -> None:
    assert join_words(["夜", "の", "街", "night", "city"]) == "夜の街 night city"
    assert text_width("夜の") == 2.0


def test_width_estimate_orders_characters_sensibly() -> None:
    assert text_width("iiii") < text_width("aaaa") < text_width("AAAA") < text_width("MMMM")
    assert text_width("MMMM") < text_width("夜夜夜夜")


def _lyrics(failed: int, total: int, hoot_cer: float | None = 0.1) -> AlignedLyrics:
    words = tuple(AlignedWord(f"w{i}", i, i + 0.5, success=i >= failed) for i in range(total))
    return AlignedLyrics(words, hoot_cer)


@pytest.mark.parametrize(
    ("lyrics", "expected"),
    [
        (AlignedLyrics(), Presentation.NONE),
        (AlignedLyrics(hoot_cer=0.9), Presentation.NONE),
        (_lyrics(0, 20), Presentation.SWEEP),
        (_lyrics(5, 20), Presentation.SWEEP),  # exactly a quarter failed
        (_lyrics(6, 20), Presentation.LINES),  # more than a quarter
        (_lyrics(0, 20, hoot_cer=0.38), Presentation.SWEEP),  # the documented example's value
        (_lyrics(0, 20, hoot_cer=0.6), Presentation.SWEEP),
        (_lyrics(0, 20, hoot_cer=0.61), Presentation.LINES),
        (_lyrics(0, 20, hoot_cer=None), Presentation.SWEEP),
    ],
)
def test_presentation_verdict(lyrics: AlignedLyrics, expected: Presentation) -> None:
    assert presentation(lyrics) is expected


def test_thresholds_are_the_documented_ones() -> None:
    assert (POOR_FAILED_SHARE, POOR_HOOT_CER) == (0.25, 0.6)
