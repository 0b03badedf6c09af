"""Lyric styles (docs/architecture.md §9.2): pop's ASS (one event per word state, the scale tag
only on the singing word, back-to-back times, three colours), its narrower lines, the
`/lyrics` argument and the style's stored form."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from bot.domain import LyricStyle
from bot.engine.render_plan import BadPlan, RenderPlan, plan_from_json
from bot.lyrics.ass import (
    POP_SCALE,
    POP_SINGING,
    POP_SUNG,
    POP_TO_COME,
    ass_time,
    karaoke_ass,
    layout_for,
)
from bot.lyrics.lines import build_lines, text_width
from bot.lyrics.model import AlignedLyrics, AlignedWord
from bot.text.commands import LyricsSetting, parse_lyrics_setting

PORTRAIT = layout_for(720, 1280)
WORDS = (
    AlignedWord("Hi", 1.0, 1.4, break_before=True),
    AlignedWord("bright", 1.5, 1.9),  # a 0.1 s pause before: it stays on "Hi"
    AlignedWord("{\\b1}sky", 2.0, 2.8),
    AlignedWord("again", 5.0, 5.6),  # after a 2.2 s pause: the next line
    AlignedWord("now", 5.7, 6.2),
)
LONG_LINE = "We were running through the midnight city lights forever and ever again"
_DIALOGUE = re.compile(r"^Dialogue: 0,([^,]+),([^,]+),(\w+),,0,0,0,,(.*)$", re.MULTILINE)
_WORD = re.compile(
    r"\{\\1c(&H[0-9A-F]{6}&)((?:\\fscx\d+\\fscy\d+)?)\}((?:\\[{}]|[^{])*)(?:\{\\fscx\d+\\fscy100\})?"
)


def _events(document: str, style: str = "Current") -> list[tuple[str, str, str]]:
    return [
        (start, end, text)
        for start, end, name, text in _DIALOGUE.findall(document)
        if name == style
    ]


def _words(text: str) -> list[tuple[str, bool, str]]:
    """(colour, grown, word) of each word in a pop event's text."""
    body = text.split("}", 1)[1]  # after the \pos block
    return [(colour, bool(scale), word.strip()) for colour, scale, word in _WORD.findall(body)]


def _pop(words: tuple[AlignedWord, ...] = WORDS) -> str:
    document = karaoke_ass(AlignedLyrics(words), PORTRAIT, style=LyricStyle.POP)
    assert document is not None
    return document


def test_pop_writes_one_event_per_word_state() -> None:
    events = _events(_pop())
    # Line 1 (3 words): to come before 1.0 s, one per word, all sung after; line 2 the same.
    assert len(events) == (1 + 3 + 1) + (1 + 2 + 1)
    singing = [[grown for _, grown, _ in _words(text)] for _, _, text in events]
    assert [row.count(True) for row in singing] == [0, 1, 1, 1, 0, 0, 1, 1, 0]
    # word k of its line is the grown one in that line's k-th singing event
    assert [row.index(True) for row in singing if True in row] == [0, 1, 2, 0, 1]


def test_the_scale_tag_is_only_on_the_singing_word() -> None:
    for _, _, text in _events(_pop()):
        assert text.count(f"\\fscy{POP_SCALE}") <= 1
        assert text.count(f"\\fscx{POP_SCALE}") == text.count(f"\\fscy{POP_SCALE}")
        for _, grown, word in _words(text):
            assert grown == (f"\\fscx{POP_SCALE}\\fscy{POP_SCALE}}}{word}" in text.replace(" ", ""))
    assert 115 <= POP_SCALE <= 120


def test_pop_events_are_back_to_back_from_show_to_hide() -> None:
    events = _events(_pop())
    first_line, second_line = events[:5], events[5:]
    for line in (first_line, second_line):
        for (_, end, _), (start, _, _) in itertools.pairwise(line):
            assert end == start  # no gap, no overlap: no flicker
    assert [start for start, _, _ in first_line[1:4]] == [
        ass_time(100),
        ass_time(150),
        ass_time(200),
    ]
    assert first_line[0][0] == ass_time(0)  # shown from the pre-roll
    assert first_line[-1][1] == ass_time(340)  # lingers 0.6 s after "sky"
    assert second_line[0][0] == ass_time(400)  # the next line's pre-roll
    # the dim preview of a line covers exactly the current line's window before it
    nexts = _events(_pop(), "Next")
    assert [(start, end) for start, end, _ in nexts] == [(ass_time(0), ass_time(340))]


def test_pop_colours_the_three_states() -> None:
    events = _events(_pop())
    states = [[colour for colour, _, _ in _words(text)] for _, _, text in events[:5]]
    # an override names a colour as &HBBGGRR& (the styles' &HAABBGGRR without the alpha)
    sung, singing, to_come = (
        f"&H{colour[-6:]}&" for colour in (POP_SUNG, POP_SINGING, POP_TO_COME)
    )
    assert len({sung, singing, to_come}) == 3
    assert states == [
        [to_come, to_come, to_come],
        [singing, to_come, to_come],
        [sung, singing, to_come],
        [sung, sung, singing],
        [sung, sung, sung],
    ]


def test_pop_escapes_provider_text_as_the_sweep_does() -> None:
    document = _pop()
    assert "\\b1" not in document.replace("\\{\\\u2060b1\\}", "")
    assert "\\{\\\u2060b1\\}sky" in document


def test_pop_breaks_lines_narrower_so_the_grown_word_still_fits() -> None:
    words = tuple(
        AlignedWord(word, 0.3 * i, 0.3 * i + 0.25) for i, word in enumerate(LONG_LINE.split())
    )
    room = PORTRAIT.room(LyricStyle.POP)
    assert room == pytest.approx(PORTRAIT.max_line_width * 100 / POP_SCALE)
    lines = build_lines(words, room)
    assert len(lines) > len(build_lines(words, PORTRAIT.max_line_width))
    for line in lines:
        widest = max(text_width(word.text) for word in line.words)
        assert text_width(line.text) + (POP_SCALE / 100 - 1) * widest <= PORTRAIT.max_line_width


def test_a_squeezed_line_keeps_its_squeeze_around_the_grown_word() -> None:
    word = AlignedWord("Supercalifragilisticexpialidocious", 1.0, 2.0)
    document = _pop((word,))
    squeeze = int(re.findall(r"\\pos\(\d+,\d+\)\\fscx(\d+)", document)[0])
    assert squeeze < 100
    assert f"\\fscx{round(squeeze * POP_SCALE / 100)}\\fscy{POP_SCALE}}}" in document
    assert f"\\fscx{squeeze}\\fscy100}}" in document


def test_sweep_is_unchanged_and_the_default() -> None:
    lyrics = AlignedLyrics(WORDS)
    assert karaoke_ass(lyrics, PORTRAIT) == karaoke_ass(lyrics, PORTRAIT, style=LyricStyle.SWEEP)
    assert "\\fscy" not in (karaoke_ass(lyrics, PORTRAIT) or "")


def test_poor_alignment_shows_whole_lines_in_either_style() -> None:
    poor = AlignedLyrics(WORDS, hoot_cer=0.9)
    assert karaoke_ass(poor, PORTRAIT, style=LyricStyle.POP) == karaoke_ass(poor, PORTRAIT)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("on", LyricsSetting(on=True)),
        ("OFF", LyricsSetting(on=False)),
        ("выкл", LyricsSetting(on=False)),
        ("pop", LyricsSetting(on=True, style=LyricStyle.POP)),
        (" Sweep ", LyricsSetting(on=True, style=LyricStyle.SWEEP)),
        ("bounce", None),
        ("", None),
    ],
)
def test_lyrics_arguments(raw: str, expected: LyricsSetting | None) -> None:
    assert parse_lyrics_setting(raw) == expected


def test_the_sweep_is_stored_as_null() -> None:
    assert LyricStyle.SWEEP.stored is None
    assert LyricStyle.POP.stored == "pop"
    assert LyricStyle.from_stored(None) is LyricStyle.SWEEP
    assert LyricStyle.from_stored("pop") is LyricStyle.POP
    assert LyricStyle.from_stored("wobble") is LyricStyle.SWEEP


def test_a_plan_stored_before_styles_reads_as_the_sweep() -> None:
    plan = RenderPlan("9:16", "T", None, None, audio_url="https://a.example/x.mp3")
    body = json.loads(plan.to_json())
    assert body["lyric_style"] == "sweep"
    del body["lyric_style"]
    assert plan_from_json(json.dumps(body)).lyric_style == "sweep"
    popped = plan_from_json(json.dumps({**body, "lyric_style": "pop"}))
    assert popped.lyric_style == "pop"
    with pytest.raises(BadPlan):
        plan_from_json(json.dumps({**body, "lyric_style": "wobble"}))
