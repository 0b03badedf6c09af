"""Second lines and count-ins in the karaoke ASS document (docs/architecture.md §9.5, §9.6)."""

from __future__ import annotations

import itertools
import re

import pytest

from bot.domain import LyricStyle
from bot.lyrics import ass
from bot.lyrics.ass import ACCENT_ROOM, karaoke_ass, layout_for
from bot.lyrics.chorus import clip_second_lines
from bot.lyrics.count_in import COUNT_IN_GAP_SECONDS, count_in_beats, counted_lines
from bot.lyrics.lines import build_lines
from bot.lyrics.model import AlignedLyrics, AlignedWord, SecondLine
from bot.rendering import VideoFormat
from bot.rendering.layout import LAYOUTS

PORTRAIT = layout_for(720, 1280)
_EVENT = re.compile(r"^Dialogue: 0,([\d:.]+),([\d:.]+),(\w+),,0,0,0,,(.*)$", re.MULTILINE)
J = "\u2060"


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _events(document: str | None, style: str) -> list[tuple[float, float, str]]:
    assert document is not None
    return [
        (_seconds(start), _seconds(end), text)
        for start, end, name, text in _EVENT.findall(document)
        if name == style
    ]


def _line(words: str, start: float, step: float = 0.5) -> list[AlignedWord]:
    return [
        AlignedWord(word, start + step * i, start + step * i + 0.4, break_before=i == 0)
        for i, word in enumerate(words.split())
    ]


# Two source lines; the second after a 2 s pause.
LYRICS = AlignedLyrics((*_line("Hello bright world", 2.0), *_line("again and again", 6.0)))
SECONDS = (SecondLine(2.0, 3.4, "Привет, мир {\\b1}"), SecondLine(6.0, 7.4, "また 🎤 שלום"))


@pytest.mark.parametrize("style", list(LyricStyle))
@pytest.mark.parametrize("hoot_cer", [0.1, 0.9])  # sweep/pop, and whole LINES
def test_second_lines_are_plain_events_under_the_current_line(
    style: LyricStyle, hoot_cer: float
) -> None:
    lyrics = AlignedLyrics(LYRICS.words, hoot_cer=hoot_cer)
    document = karaoke_ass(lyrics, PORTRAIT, style=style, second_lines=SECONDS)
    seconds = _events(document, "Second")
    current = _events(document, "Current")
    layout = PORTRAIT.with_second_lines()
    assert layout.second_y is not None
    assert f"Style: Second,DejaVu Sans,{layout.second_font_size}," in (document or "")
    assert layout.second_font_size == 30  # 62 % of 48
    # The display windows of each line (pop writes several events per line, back to back).
    windows = [(current[0][0], max(e for s, e, _ in current if s < 5.0))]
    windows.append((min(s for s, _, _ in current if s >= 5.0), current[-1][1]))
    assert [(start, end) for start, end, _ in seconds] == windows
    assert seconds[0][2] == f"{{\\pos(323,{layout.second_y})}}Привет, мир \\{{\\{J}b1\\}}"
    assert seconds[1][2] == f"{{\\pos(323,{layout.second_y})}}また 🎤 שלום"
    assert all("\\k" not in text and "\\fscy" not in text for _, _, text in seconds)
    assert all(f"\\pos(323,{layout.current_y})" in text for _, _, text in current)


def test_a_source_line_broken_to_width_keeps_one_second_line_under_both_halves() -> None:
    long_line = "We were running through the midnight city lights forever and ever again"
    words = tuple(_line(long_line, 1.0, step=0.3))
    lines = build_lines(words, PORTRAIT.max_line_width)
    assert len(lines) >= 2  # re-broken to width
    second = SecondLine(words[0].start, words[-1].end, "Мы бежали сквозь полночный город")
    document = karaoke_ass(AlignedLyrics(words), PORTRAIT, second_lines=(second,))
    current = _events(document, "Current")
    seconds = _events(document, "Second")
    assert len(current) == len(lines)
    assert [(s, e) for s, e, _ in seconds] == [(current[0][0], current[-1][1])]
    # The parts' windows are back to back: the second line stays while any part is sung.
    assert all(a[1] == b[0] for a, b in itertools.pairwise(current))


def test_a_second_line_covers_only_its_own_span() -> None:
    document = karaoke_ass(LYRICS, PORTRAIT, second_lines=SECONDS[1:])
    seconds = _events(document, "Second")
    assert len(seconds) == 1
    assert seconds[0][0] >= 5.0  # nothing under the first line


def test_a_long_second_line_is_squeezed_to_the_lyrics_width() -> None:
    text = "Полночная поездка по бесконечному неоновому бульвару разбитых надежд и снов"
    document = karaoke_ass(LYRICS, PORTRAIT, second_lines=(SecondLine(2.0, 3.4, text),))
    (event,) = _events(document, "Second")
    squeeze = re.search(r"\\fscx(\d+)", event[2])
    assert squeeze is not None
    assert 30 < int(squeeze.group(1)) < 100


def test_without_second_lines_the_layout_and_header_are_unchanged() -> None:
    document = karaoke_ass(LYRICS, PORTRAIT)
    assert document is not None
    assert "Style: Second" not in document
    assert "Style: Count" not in document
    assert ",Second," not in document
    assert ",Count," not in document
    assert {(m[0], m[1]) for m in re.findall(r"\\pos\((\d+),(\d+)\)", document)} <= {
        ("323", "580"),
        ("323", "650"),
    }


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (720, 720), (1280, 720)])
def test_the_three_rows_do_not_overlap(width: int, height: int) -> None:
    layout = layout_for(width, height).with_second_lines()
    assert layout.second_y is not None
    current = layout.ink_box(layout.current_y, 1.0)
    nxt = layout.ink_box(layout.next_y, 1.0)
    size, edge = layout.second_font_size, layout.outline
    second_top = layout.second_y - size / 2 - ACCENT_ROOM * size - edge
    second_bottom = layout.second_y + size / 2 + edge + 1
    assert current[3] <= second_top
    assert second_bottom <= nxt[1]
    digit_bottom = layout.count_y + layout.count_font_size / 2 + edge + 1
    assert digit_bottom <= current[1]
    plain = layout_for(width, height)
    if height > width:  # 9:16: the rows keep the two lines' middle (the safe frame holds)
        middle = (layout.current_y + layout.next_y) / 2
        assert abs(middle - (plain.current_y + plain.next_y) / 2) <= 1
    else:  # 1:1, 16:9: the next line stays clear of the title and the visualisation
        assert layout.next_y == plain.next_y
        assert layout.current_y < plain.current_y


# --- count-ins -----------------------------------------------------------------------------


def _count_song(gap: float) -> AlignedLyrics:
    """Line 1 at 5.0 s, line 2 0.3 s after it, line 3 `gap` s after line 2, line 4 after 4.0 s."""
    first = _line("one two", 5.0)  # ends 5.9
    second = _line("three four", 6.2)  # ends 7.1
    third = _line("five six", 7.1 + gap)
    fourth = _line("seven eight", third[-1].end + 4.0)
    return AlignedLyrics((*first, *second, *third, *fourth))


def _count_ins(document: str | None) -> list[tuple[float, float, str]]:
    return [(s, e, re.sub(r"\{[^}]*\}", "", t)) for s, e, t in _events(document, "Count")]


@pytest.mark.parametrize("style", list(LyricStyle))
@pytest.mark.parametrize("hoot_cer", [0.1, 0.9])  # sweep/pop, and whole LINES
def test_count_ins_before_the_first_line_and_after_gaps_of_4_s(
    style: LyricStyle, hoot_cer: float
) -> None:
    lyrics = AlignedLyrics(_count_song(gap=4.0).words, hoot_cer=hoot_cer)
    document = karaoke_ass(lyrics, PORTRAIT, style=style, count_in=True)
    beats = _count_ins(document)
    counted_starts = [5.0, 11.1, 16.0]  # first, after exactly 4.0 s, after 4.0 s
    assert [digit for _, _, digit in beats] == ["3", "2", "1"] * 3
    for index, line_start in enumerate(counted_starts):
        three, two, one = beats[3 * index : 3 * index + 3]
        assert abs(three[0] - (line_start - 3.0)) <= 0.05
        assert abs(one[1] - line_start) <= 0.005  # ends exactly at the first word
        assert three[1] == two[0]
        assert two[1] == one[0]
        assert all(abs(end - start - 1.0) <= 0.005 for start, end, _ in (three, two, one))
    assert f"Style: Count,DejaVu Sans,{PORTRAIT.count_font_size}," in (document or "")
    assert all(f"\\pos(323,{PORTRAIT.count_y})" in t for _, _, t in _events(document, "Count"))


def test_no_count_in_after_a_gap_of_3_9_s() -> None:
    document = karaoke_ass(_count_song(gap=3.9), PORTRAIT, count_in=True)
    ends = [round(end, 2) for _, end, digit in _count_ins(document) if digit == "1"]
    assert ends == [5.0, 15.9]  # the first line and the fourth, not the third (7.1 + 3.9)


def test_without_count_in_there_is_none() -> None:
    document = karaoke_ass(_count_song(gap=4.0), PORTRAIT)
    assert _count_ins(document) == []
    assert "Style: Count" not in (document or "")


def test_a_first_line_near_the_start_counts_only_what_fits() -> None:
    lyrics = AlignedLyrics(tuple(_line("early bird", 2.5)))
    assert [d for _, _, d in _count_ins(karaoke_ass(lyrics, PORTRAIT, count_in=True))] == [
        "2",
        "1",
    ]
    assert [beat.digit for beat in count_in_beats(40)] == []
    assert [(b.digit, b.start, b.end) for b in count_in_beats(300)] == [
        ("3", 0, 100),
        ("2", 100, 200),
        ("1", 200, 300),
    ]


def test_a_counted_line_is_shown_from_its_count_in_with_the_next_line_under_it() -> None:
    document = karaoke_ass(_count_song(gap=4.0), PORTRAIT, count_in=True)
    current = _events(document, "Current")
    nexts = _events(document, "Next")
    assert current[0][0] == pytest.approx(2.0)  # line 1 from 5.0 - 3.0
    third = next(c for c in current if c[0] > 8.0)
    assert third[0] == pytest.approx(11.1 - 3.0)
    assert any(start == third[0] and "seven" in text for start, _, text in nexts)
    # An uncounted line keeps the usual timing: line 2 is current once line 1 is gone.
    assert current[1][0] == pytest.approx(6.2)


def test_counted_lines_rule() -> None:
    lines = build_lines(_count_song(gap=4.0).words, PORTRAIT.max_line_width)
    assert counted_lines(lines) == (0, 2, 3)
    assert COUNT_IN_GAP_SECONDS == 4.0


def test_teaser_second_lines_follow_the_window() -> None:
    seconds = (SecondLine(1.0, 3.0, "a"), SecondLine(9.0, 12.0, "b"), SecondLine(20.0, 22.0, "c"))
    assert clip_second_lines(seconds, 10.0, 21.0) == (
        SecondLine(0.0, 2.0, "b"),
        SecondLine(10.0, 11.0, "c"),
    )


def test_landscape_lyrics_and_count_ins_stay_over_the_cover() -> None:
    """In 16:9 the title, author and visualisation are right of the cover: the lines, their
    second lines and the count-in's digits stay inside the cover's box."""
    landscape = LAYOUTS[VideoFormat.LANDSCAPE]
    cover = landscape.cover
    assert (cover.x, cover.y, cover.right, cover.y + cover.height) == ass.LANDSCAPE_COVER
    for layout in (layout_for(1280, 720), layout_for(1280, 720).with_second_lines()):
        assert layout.centre_x == cover.x + cover.width // 2
        widest = layout.ink_box(layout.current_y, layout.max_line_width)
        assert cover.x <= widest[0]
        assert widest[2] <= cover.right
        assert (landscape.title.x or 0) > cover.right
        top = layout.count_y - layout.count_font_size * (0.5 + ACCENT_ROOM) - layout.outline
        assert cover.y <= top
        bottom = layout.ink_box(layout.next_y, 1.0)[3]
        assert bottom <= cover.y + cover.height


def test_square_lines_end_above_the_title() -> None:
    """In 1:1 the title is right under the cover: the dim next line (and with second lines the
    rows grow upwards) never reaches it."""
    square = LAYOUTS[VideoFormat.SQUARE]
    assert square.title.y == ass.SQUARE_TITLE_Y
    for layout in (layout_for(720, 720), layout_for(720, 720).with_second_lines()):
        assert layout.ink_box(layout.next_y, 1.0)[3] <= square.title.y
        top = layout.count_y - layout.count_font_size * (0.5 + ACCENT_ROOM) - layout.outline
        assert square.cover.y <= top
