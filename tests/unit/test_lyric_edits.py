"""Lyric corrections: numbered text, both reply forms, second lines, errors by line, re-timing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lyrics.edits import (
    PROBLEMS,
    TELEGRAM_TEXT_LIMIT,
    Correction,
    CorrectionError,
    Problem,
    apply_correction,
    grapheme_count,
    numbered_text,
    parse_correction,
    problem,
    second_lines,
    split_words,
)
from bot.lyrics.lines import LyricLine
from bot.lyrics.model import AlignedWord
from bot.text.texts import text


def line(*words: tuple[str, float, float], tags: tuple[str, ...] = ()) -> LyricLine:
    built = [AlignedWord(text, start, end) for text, start, end in words]
    built[0] = AlignedWord(
        built[0].text, built[0].start, built[0].end, tags=tags, break_before=True
    )
    return LyricLine(tuple(built))


LINES = (
    line(("Waggin'", 1.03, 1.41), ("tail", 1.41, 2.07), tags=("Verse",)),
    line(("Собака", 2.51, 3.12), ("лает", 3.12, 3.77)),
    line(("愛", 4.0, 4.33), ("してる", 4.33, 5.19)),
    line(("🐶", 5.5, 5.9), ("👍🏽", 5.9, 6.25), ("🇯🇵", 6.25, 6.8)),
    line(("مرحبا", 7.01, 7.6), ("שלום", 7.6, 8.33)),
)


def test_numbered_text_is_one_numbered_line_per_lyric_line() -> None:
    assert numbered_text(LINES) == [
        "1. Waggin' tail\n2. Собака лает\n3. 愛してる\n4. 🐶👍🏽 🇯🇵\n5. مرحبا שלום"
    ]


def test_numbered_text_is_split_between_lines_to_fit_a_message() -> None:
    many = tuple(line((f"слово{n}", n, n + 0.5), ("😀" * 40, n + 0.5, n + 1.0)) for n in range(300))
    chunks = numbered_text(many)
    assert len(chunks) > 1
    assert all(len(chunk.encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_LIMIT for chunk in chunks)
    rows = "\n".join(chunks).split("\n")
    assert rows == [f"{n + 1}. слово{n} {'😀' * 40}" for n in range(300)]


def test_whole_list_again_with_one_change_changes_only_that_line() -> None:
    reply = "1. Waggin' tail\n2. Собака громко лает\n3. 愛してる\n4. 🐶👍🏽 🇯🇵\n5. مرحبا שלום\n"
    correction = parse_correction(reply, len(LINES))
    fixed = apply_correction(LINES, correction)
    assert [fixed[i] is LINES[i] for i in range(5)] == [True, False, True, True, True]
    assert fixed[1].text == "Собака громко лает"
    assert (fixed[1].start, fixed[1].end) == (2.51, 3.77)
    # Weights 6, 6, 4 letters over 2.51-3.77, inner bounds to the centisecond.
    assert [(w.start, w.end) for w in fixed[1].words] == [(2.51, 2.98), (2.98, 3.46), (3.46, 3.77)]


def test_only_changed_lines_as_n_colon_text() -> None:
    reply = "3: 愛してるよ\n\n 5:  שלום   مرحبا \n"
    fixed = apply_correction(LINES, parse_correction(reply, len(LINES)))
    assert [fixed[i] is LINES[i] for i in range(5)] == [True, True, False, True, False]
    # CJK without spaces is split per character and shares the span by length.
    assert [w.text for w in fixed[2].words] == ["愛", "し", "て", "る", "よ"]
    assert fixed[2].text == "愛してるよ"
    assert [(w.start, w.end) for w in fixed[2].words] == [
        (4.0, 4.24),
        (4.24, 4.48),
        (4.48, 4.71),
        (4.71, 4.95),
        (4.95, 5.19),
    ]
    # Same number of words: each word keeps its own timing, right-to-left text kept as typed.
    assert fixed[4].words == (
        AlignedWord("שלום", 7.01, 7.6, break_before=True),
        AlignedWord("مرحبا", 7.6, 8.33),
    )


def test_unnumbered_whole_list_is_read_by_position() -> None:
    reply = "Waggin' tails\nСобака лает\n愛してる\n🐶👍🏽 🇯🇵\nمرحبا שלום"
    fixed = apply_correction(LINES, parse_correction(reply, len(LINES)))
    assert fixed[0].words[0] == LINES[0].words[0]
    assert fixed[0].words[1] == AlignedWord("tails", 1.41, 2.07)
    assert fixed[1:] == LINES[1:]


def test_proportional_retiming_keeps_first_word_tags_and_counts_graphemes() -> None:
    correction = Correction(texts={1: "a 👍🏽🇯🇵 bcd", 4: "🐶👍🏽"})
    fixed = apply_correction(LINES, correction)
    words = fixed[0].words
    assert [w.text for w in words] == ["a", "👍🏽🇯🇵", "bcd"]
    assert words[0].tags == ("Verse",)
    assert words[0].break_before
    assert not any(w.tags or w.break_before for w in words[1:])
    # Weights 1, 2, 3 over 1.03-2.07.
    assert [(w.start, w.end) for w in words] == [(1.03, 1.2), (1.2, 1.55), (1.55, 2.07)]
    # Two wide emoji are two words (the display joins them without a space).
    assert [(w.start, w.end) for w in fixed[3].words] == [(5.5, 6.15), (6.15, 6.8)]
    assert grapheme_count("👨\u200d👩\u200d👧 é") == 3


def test_split_words_cuts_between_wide_characters_only() -> None:
    assert split_words("愛してるyo 你好") == ["愛", "し", "て", "るyo", "你", "好"]
    assert split_words("Привет мир") == ["Привет", "мир"]


def test_second_line_block_after_dashes() -> None:
    reply = "2: Собака лает!\n---\n2: The dog barks\n3: ai shiteru\n"
    correction = parse_correction(reply, len(LINES))
    assert dict(correction.texts) == {2: "Собака лает!"}
    assert second_lines(correction, len(LINES)) == (None, "The dog barks", "ai shiteru", None, None)
    # A phone's em dash works as the separator, and the second block may be the whole list.
    only_second = parse_correction("—\na\nb\nc\nd\ne", len(LINES))
    assert dict(only_second.texts) == {}
    assert second_lines(only_second, len(LINES)) == ("a", "b", "c", "d", "e")
    assert apply_correction(LINES, only_second) == LINES


@pytest.mark.parametrize(
    ("reply", "problems"),
    [
        (
            "one\ntwo",
            [
                Problem(
                    None,
                    "Lines: 2 given, the lyrics have 5. Send all 5, or only the changed ones"
                    " as 'N: text'.",
                )
            ],
        ),
        (
            "7: x\n2:\n3. y\n3: z\n0: w",
            [
                Problem(0, "there is no line 0 (the lyrics have lines 1–5)."),
                Problem(2, "the new text is empty."),
                Problem(3, "given twice."),
                Problem(7, "there is no line 7 (the lyrics have lines 1–5)."),
            ],
        ),
        (
            "2: ok\nno number here",
            [Problem(None, "No line number before “no number here” (write 'N: text').")],
        ),
        ("  \n\n", [Problem(None, "The reply has no lines.")]),
        ("1: a\n---\n", [Problem(None, "Nothing after the --- line: add the second lines.")]),
        (
            "1: a\n---\n9: b\n1:",
            [
                Problem(1, "the second line text is empty."),
                Problem(9, "there is no second line 9 (the lyrics have lines 1–5)."),
            ],
        ),
    ],
)
def test_errors_are_collected_by_line_number(reply: str, problems: list[Problem]) -> None:
    with pytest.raises(CorrectionError) as caught:
        parse_correction(reply, len(LINES))
    found = [(p.line, p.reason) for p in caught.value.problems]
    assert found == [(p.line, p.reason) for p in problems]
    for expected in problems:
        assert expected.reason in caught.value.describe()


def test_describe_names_the_line() -> None:
    error = CorrectionError([Problem(3, "given twice."), Problem(None, "The reply has no lines.")])
    assert error.describe() == "Line 3: given twice.\nThe reply has no lines."


_CLUSTERS = [*"abcXYZ'é,!?", *"ЖжЩ", *"愛してる你好", "😀", "👍🏽", "🇯🇵", *"مرحשלו"]
_TEXT = st.lists(st.sampled_from(_CLUSTERS), min_size=1, max_size=6).map("".join)


@st.composite
def lyric_lines(draw: st.DrawFn) -> tuple[LyricLine, ...]:
    count = draw(st.integers(1, 12))
    time = draw(st.integers(0, 1000)) / 100
    result = []
    for _ in range(count):
        words = []
        for _ in range(draw(st.integers(1, 5))):
            length = draw(st.integers(0, 300)) / 100
            words.append(AlignedWord(draw(_TEXT), time, time + length))
            time += length
        result.append(LyricLine(tuple(words)))
    return tuple(result)


@settings(max_examples=150, deadline=None)
@given(lyric_lines())
def test_property_numbered_text_round_trips(lines: tuple[LyricLine, ...]) -> None:
    correction = parse_correction("\n".join(numbered_text(lines)), len(lines))
    assert apply_correction(lines, correction) == lines


@settings(max_examples=150, deadline=None)
@given(lyric_lines(), st.data())
def test_property_edits_keep_every_line_span_and_unedited_lines(
    lines: tuple[LyricLine, ...], data: st.DataObject
) -> None:
    edited = data.draw(
        st.dictionaries(st.integers(1, len(lines)), st.lists(_TEXT, min_size=1, max_size=6))
    )
    reply = "\n".join(f"{n}: {' '.join(words)}" for n, words in edited.items()) or "\n".join(
        numbered_text(lines)
    )
    fixed = apply_correction(lines, parse_correction(reply, len(lines)))
    assert len(fixed) == len(lines)
    for number, (before, after) in enumerate(zip(lines, fixed, strict=True), start=1):
        assert (after.start, after.end) == (before.start, before.end)
        if number not in edited:
            assert after == before
        else:
            assert after.text.replace(" ", "") == "".join(edited[number])
            times = [t for w in after.words for t in (w.start, w.end)]
            assert times == sorted(times)


def test_a_correction_built_by_hand_is_checked_by_line_number() -> None:
    with pytest.raises(CorrectionError) as caught:
        apply_correction(LINES, Correction(texts={9: "x", 2: "y"}))
    assert [(p.line, p.reason) for p in caught.value.problems] == [(9, "there is no line 9.")]
    with pytest.raises(CorrectionError) as caught:
        apply_correction(LINES, Correction(texts={2: " \t "}))
    assert [(p.line, p.reason) for p in caught.value.problems] == [(2, "the new text is empty.")]


def test_two_messages_joined_make_one_correction() -> None:
    first, second = "1: Waggin' tails", "---\n1: Виляя хвостом"
    correction = parse_correction(f"{first}\n{second}", len(LINES))
    assert dict(correction.texts) == {1: "Waggin' tails"}
    assert second_lines(correction, len(LINES))[0] == "Виляя хвостом"


@pytest.mark.parametrize("key", sorted(PROBLEMS))
def test_every_problem_reads_the_same_in_the_catalogue_in_english(key: str) -> None:
    values = {"given": 3, "count": 5, "row": "la la", "number": 7}
    found = problem(2, key, **{k: v for k, v in values.items() if "{" + k + "}" in PROBLEMS[key]})
    assert found.key == key
    shown = text("en", f"lyrics_problem_{key}", **dict(found.values))
    assert shown == found.reason
    assert text("ru", f"lyrics_problem_{key}", **dict(found.values)) != shown  # translated
