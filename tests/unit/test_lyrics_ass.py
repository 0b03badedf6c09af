"""The karaoke ASS document: exact text, word timing, layout per format and hostile words."""

from __future__ import annotations

import re

import pytest

from bot.lyrics.ass import (
    AssLayout,
    ass_time,
    escape_ass_text,
    karaoke_ass,
    layout_for,
    render_ass,
)
from bot.lyrics.lines import build_lines
from bot.lyrics.model import AlignedLyrics, AlignedWord

PORTRAIT = layout_for(720, 1280)
HEADER = (
    "[Script Info]\n"
    "ScriptType: v4.00+\n"
    "PlayResX: 720\n"
    "PlayResY: 1280\n"
    "WrapStyle: 2\n"
    "ScaledBorderAndShadow: yes\n"
    "\n"
    "[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
    "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
    "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    "Style: Current,DejaVu Sans,48,&H0000D7FF,&H00FFFFFF,&H00000000,&H80000000,"
    "0,0,0,0,100,100,0,0,1,3,1,5,43,117,0,1\n"
    "Style: Next,DejaVu Sans,48,&H60FFFFFF,&H60FFFFFF,&H60000000,&H80000000,"
    "0,0,0,0,100,100,0,0,1,3,0,5,43,117,0,1\n"
    "\n"
    "[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
WORDS = (
    AlignedWord("Hello", 1.0, 1.4, tags=("Verse",), break_before=True),
    AlignedWord("bright", 1.5, 1.9),
    AlignedWord("world", 2.0, 2.8),
    AlignedWord("again", 5.0, 5.6),  # after a 2.2 s pause
    AlignedWord("{\\b1}now", 5.7, 6.2),
)
J = "\u2060"  # the invisible word joiner that defuses a provider's backslash


def test_layouts_of_the_three_formats() -> None:
    assert layout_for(720, 1280) == AssLayout(720, 1280, 48, 43, 580, 650, margin_right=117)
    assert PORTRAIT.centre_x == 323  # the safe frame's centre, not the frame's
    assert layout_for(720, 720) == AssLayout(720, 720, 52, 40, 313, 388)
    assert layout_for(1280, 720) == AssLayout(1280, 720, 48, 96, 508, 578, margin_right=696)


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (360, 640), (1080, 1920)])
def test_portrait_lyrics_sit_in_the_middle_third(width: int, height: int) -> None:
    layout = layout_for(width, height)
    top = layout.current_y - layout.font_size
    bottom = layout.next_y + layout.font_size
    assert height / 3 < top < bottom < 2 * height / 3


def test_sweep_document_exact_text() -> None:
    lyrics = AlignedLyrics(WORDS, hoot_cer=0.2)
    assert karaoke_ass(lyrics, PORTRAIT) == HEADER + (
        "Dialogue: 0,0:00:00.00,0:00:03.40,Current,,0,0,0,,"
        "{\\pos(323,580)}{\\k100}{\\kf50}Hello {\\kf50}bright {\\kf80}world\n"
        "Dialogue: 0,0:00:00.00,0:00:03.40,Next,,0,0,0,,"
        f"{{\\pos(323,650)}}again \\{{\\{J}b1\\}}now\n"
        "Dialogue: 0,0:00:04.00,0:00:06.80,Current,,0,0,0,,"
        f"{{\\pos(323,580)}}{{\\k100}}{{\\kf70}}again {{\\kf50}}\\{{\\{J}b1\\}}now\n"
    )


def test_poor_alignment_shows_whole_lines_without_sweep() -> None:
    lyrics = AlignedLyrics(WORDS, hoot_cer=0.9)
    assert karaoke_ass(lyrics, PORTRAIT) == HEADER + (
        "Dialogue: 0,0:00:00.00,0:00:03.40,Current,,0,0,0,,{\\pos(323,580)}Hello bright world\n"
        "Dialogue: 0,0:00:00.00,0:00:03.40,Next,,0,0,0,,"
        f"{{\\pos(323,650)}}again \\{{\\{J}b1\\}}now\n"
        "Dialogue: 0,0:00:04.00,0:00:06.80,Current,,0,0,0,,"
        f"{{\\pos(323,580)}}again \\{{\\{J}b1\\}}now\n"
    )


def test_an_instrumental_has_no_document() -> None:
    assert karaoke_ass(AlignedLyrics(hoot_cer=0.0, waveform=(0.5,)), PORTRAIT) is None


def test_a_too_wide_word_is_squeezed_to_fit() -> None:
    words = (AlignedWord("Supercalifragilisticexpialidocious", 0.0, 2.0),)
    document = render_ass(build_lines(words, PORTRAIT.max_line_width), PORTRAIT, sweep=True)
    assert "{\\pos(323,580)\\fscx71}{\\kf200}Supercalifragilisticexpialidocious\n" in document


_EVENT = re.compile(r"^Dialogue: 0,([\d:.]+),([\d:.]+),(\w+),,0,0,0,,(.*)$", re.MULTILINE)
_BLOCK = re.compile(r"(?<!\\)\{([^}]*)\}")


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def highlight_starts(document: str) -> list[float]:
    """When each word's sweep begins, replayed from the \\k and \\kf tags of current lines."""
    starts: list[float] = []
    for start, _end, style, text in _EVENT.findall(document):
        if style != "Current":
            continue
        clock = _seconds(start)
        for block in _BLOCK.findall(text):
            for kind, centiseconds in re.findall(r"\\(kf|k)(\d+)", block):
                if kind == "kf":
                    starts.append(clock)
                clock += int(centiseconds) / 100
    return starts


def _song() -> tuple[AlignedWord, ...]:
    # 120 words with irregular lengths, gaps and a few long pauses, on odd milliseconds.
    words: list[AlignedWord] = []
    clock = 0.737
    for index in range(120):
        length = 0.113 + (index * 37 % 11) / 23
        words.append(AlignedWord(f"w{index % 7}ord", clock, clock + length, break_before=False))
        clock += length + (1.9 if index % 17 == 16 else (index * 13 % 7) / 41)
    return tuple(words)


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (720, 720), (1280, 720)])
def test_every_word_highlight_starts_within_50_ms_of_its_start(width: int, height: int) -> None:
    words = _song()
    document = karaoke_ass(AlignedLyrics(words, hoot_cer=0.1), layout_for(width, height))
    assert document is not None
    starts = highlight_starts(document)
    assert len(starts) == len(words)
    assert max(abs(got - word.start) for got, word in zip(starts, words, strict=True)) <= 0.05


def test_at_most_two_lines_are_ever_on_screen() -> None:
    document = karaoke_ass(AlignedLyrics(_song()), PORTRAIT)
    assert document is not None
    spans = [(_seconds(a), _seconds(b), style) for a, b, style, _ in _EVENT.findall(document)]
    for moment in [t / 10 for t in range(int(spans[-1][1] * 10) + 10)]:
        shown = [style for start, end, style in spans if start <= moment < end]
        assert sorted(shown) in ([], ["Current"], ["Current", "Next"])


HOSTILE = [
    "{\\pos(0,0)}",
    "\\N",
    "\\n",
    "\\h",
    "a\\",
    "}{",
    "{\\k500}",
    "\\{",
    "{\\fs400\\c&H0000FF&}big",
    "tab\there",
    "line\u2028sep",
]


@pytest.mark.parametrize("word", HOSTILE)
def test_hostile_words_are_inert(word: str) -> None:
    words = (AlignedWord("start", 1.0, 1.5), AlignedWord(word, 1.5, 2.0), AlignedWord("x", 2, 3))
    document = karaoke_ass(AlignedLyrics(words), PORTRAIT)
    assert document is not None
    events = _EVENT.findall(document)
    for _start, _end, _style, text in events:
        ours = _BLOCK.findall(text)
        assert all(
            re.fullmatch(r"\\pos\(\d+,\d+\)(?:\\fscx\d+)?|\\k\d+|\\kf\d+", block) for block in ours
        )
        outside = _BLOCK.sub("", text)
        # Every backslash left is an escaped brace or is disarmed by the word joiner.
        assert re.fullmatch(r"(?:[^\\]|\\[{}]|\\\u2060)*", outside)
    current = " ".join(_BLOCK.sub("", text) for _, _, style, text in events if style == "Current")
    shown = current.replace("\\{", "{").replace("\\}", "}").replace(J, "")
    expected = " ".join(word.replace("\t", " ").replace("\u2028", " ").split())
    assert shown == f"start {expected} x"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain words", "plain words"),
        ("{\\pos(1,2)}", f"\\{{\\{J}pos(1,2)\\}}"),
        ("a\\Nb", f"a\\{J}Nb"),
        ("x\\hy", f"x\\{J}hy"),
        ("new\nline\r\n", "new line "),
        ("Привет 夜", "Привет 夜"),
    ],
)
def test_escape_ass_text(text: str, escaped: str) -> None:
    assert escape_ass_text(text) == escaped


def test_ass_time_format() -> None:
    assert [ass_time(cs) for cs in (0, 5, 6_099, 360_000)] == [
        "0:00:00.00",
        "0:00:00.05",
        "0:01:00.99",
        "1:00:00.00",
    ]
