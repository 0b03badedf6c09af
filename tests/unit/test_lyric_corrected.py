"""A chat's corrected lyrics (docs/architecture.md §9.5): replies applied on top of the last
correction, the source lines stable across edits, second lines on their line's span, the stored
form and its revision."""

from __future__ import annotations

import pytest

from bot.lyrics.codec import BadStoredLyrics
from bot.lyrics.corrected import (
    CorrectedLyrics,
    apply_reply,
    corrected_from_json,
    corrected_to_json,
    is_provider_text,
    numbered_second_lines,
    revision_of,
    source_lines,
)
from bot.lyrics.edits import CorrectionError, parse_correction
from bot.lyrics.model import SecondLine, WordToken, aligned_lyrics

# Four source lines: a tag, a newline, a pause of 0.8 s (no newline) and a CJK line.
PROVIDER = aligned_lyrics(
    [
        WordToken("[Verse]\nWaggin'", 1.03, 1.41),
        WordToken("tail", 1.41, 2.07),
        WordToken("\nСобака", 2.51, 3.12),
        WordToken("лает", 3.12, 3.77),
        WordToken("🐶", 4.6, 4.9),  # after a pause: a line of its own
        WordToken("👍🏽", 4.9, 5.2),
        WordToken("\n愛", 6.0, 6.33),
        WordToken("してる", 6.33, 7.19),
    ],
    hoot_cer=0.2,
    waveform=(0.1, 0.5),
)


def reply(current: CorrectedLyrics | None, body: str) -> CorrectedLyrics:
    lines = source_lines(current.lyrics if current else PROVIDER)
    return apply_reply(PROVIDER, current, parse_correction(body, len(lines))).corrected


def texts(lyrics: CorrectedLyrics) -> list[str]:
    return [line.text for line in source_lines(lyrics.lyrics)]


def spans(lyrics: CorrectedLyrics | None) -> list[tuple[float, float]]:
    source = lyrics.lyrics if lyrics else PROVIDER
    return [(line.start, line.end) for line in source_lines(source)]


def test_source_lines_break_at_the_sources_breaks_and_pauses_only() -> None:
    assert [line.text for line in source_lines(PROVIDER)] == [
        "Waggin' tail",
        "Собака лает",
        "🐶👍🏽",
        "愛してる",
    ]


def test_only_the_edited_line_changes_and_times_stay() -> None:
    applied = apply_reply(PROVIDER, None, parse_correction("2: Собака громко лает", 4))
    assert applied.changed == (2,)
    fixed = applied.corrected
    assert texts(fixed) == ["Waggin' tail", "Собака громко лает", "🐶👍🏽", "愛してる"]
    assert spans(fixed) == spans(None)  # every line's start and end, to the float
    before, after = source_lines(PROVIDER), source_lines(fixed.lyrics)
    for n in (0, 2, 3):  # the same words, times and tags (a line's first word marks its break)
        assert [(w.text, w.start, w.end, w.tags) for w in after[n].words] == [
            (w.text, w.start, w.end, w.tags) for w in before[n].words
        ]
        assert after[n].words[0].break_before
    assert fixed.lyrics.hoot_cer == 0.2
    assert fixed.lyrics.waveform == (0.1, 0.5)


def test_edits_never_merge_or_split_the_source_lines() -> None:
    # The pause-made line loses its pause inside a re-timed line; the next edit still sees 4.
    first = reply(None, "3: 🐶🐶 👍🏽 שלום")
    assert texts(first) == ["Waggin' tail", "Собака лает", "🐶🐶👍🏽 שלום", "愛してる"]
    second = reply(first, "1: Waggin' my tail")
    assert texts(second) == ["Waggin' my tail", "Собака лает", "🐶🐶👍🏽 שלום", "愛してる"]
    assert spans(second) == spans(None)
    whole = reply(second, "a\nb\nc\nd")
    assert texts(whole) == ["a", "b", "c", "d"]
    assert spans(whole) == spans(None)


def test_second_lines_take_their_lines_span_and_merge_with_earlier_ones() -> None:
    first = reply(None, "---\n2: Sobaka laet\n4: ai shiteru")
    assert first.second_lines == (
        SecondLine(2.51, 3.77, "Sobaka laet"),
        SecondLine(6.0, 7.19, "ai shiteru"),
    )
    second = reply(first, "1: Waggin' my tail\n---\n4: I love you")
    assert [s.text for s in second.second_lines] == ["Sobaka laet", "I love you"]
    lines = source_lines(second.lyrics)
    assert numbered_second_lines(lines, second.second_lines) == "2. Sobaka laet\n4. I love you"


def test_errors_apply_nothing() -> None:
    with pytest.raises(CorrectionError) as raised:
        reply(None, "7: nope\n2:  ")
    assert "Line 2" in raised.value.describe()
    assert "Line 7" in raised.value.describe()


def test_the_stored_form_round_trips_with_its_scripts_and_revision() -> None:
    fixed = reply(None, "2: Собака 愛 🐶 שלום\n---\n1: first")
    body = corrected_to_json(fixed)
    for word in ("Собака", "愛", "🐶", "שלום"):
        assert f'"{word}"' in body  # kept as typed, not escaped
    assert corrected_from_json(body) == fixed
    assert revision_of(body) == revision_of(corrected_to_json(corrected_from_json(body)))
    assert revision_of(body) != revision_of(corrected_to_json(reply(None, "2: Собака")))
    with pytest.raises(BadStoredLyrics):
        corrected_from_json('{"lyrics": 1}')


def test_a_correction_back_to_the_providers_lines_is_none() -> None:
    edited = reply(None, "2: Собака громко лает")
    assert not is_provider_text(PROVIDER, edited)
    reverted = reply(edited, "2: Собака лает")
    assert is_provider_text(PROVIDER, reverted)
    assert not is_provider_text(PROVIDER, reply(reverted, "---\n1: a second line"))
