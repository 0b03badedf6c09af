"""Karaoke lyrics as an ASS subtitle document for libass (ffmpeg's `ass` filter).

At most two lines are on screen: the current line, highlighted word by word, and the next line
below it, dimmer. Two styles highlight (`/lyrics sweep|pop`, docs/architecture.md §9.2): the
sweep fills each word left to right with `\\kf`; pop shows three states (sung, singing, to
come) with the singing word grown to 118 %: libass cannot scale inside a karaoke tag, so pop
writes one event of the whole line per word, back to back, and breaks lines narrower by as much
so the grown word still fits. In 1:1 and 16:9 both sit around the
frame's vertical centre; in 9:16 they lie inside the short-video apps' safe frame
(x 40..607, y 167..1000 at 720x1280, docs/architecture.md §8.7), over the lower part of the
cover, centred on x = 323 rather than on the frame. A chat's second lines (a translation, a
romanization) are drawn smaller under the sung line, without a sweep, and a sing-along render
counts in "3", "2", "1" above the line to come (docs/architecture.md §9.5, §9.6). Provider
text is escaped, so no word can open an override block or a line break. Pure: no I/O; the
renderer writes the text to a file and points the filter at it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.domain import LyricStyle
from bot.lyrics.count_in import count_in_beats, count_in_lead_cs, counted_lines
from bot.lyrics.lines import (
    LyricLine,
    Presentation,
    build_lines,
    presentation,
    text_width,
    word_separator,
)
from bot.lyrics.model import AlignedLyrics, SecondLine

PRE_ROLL_SECONDS = 1.0  # a line appears up to this long before its first word is sung
LINGER_SECONDS = 0.6  # and stays this long after its last word when nothing follows at once

SUNG = "&H0000D7FF"  # gold (ASS colours are &HAABBGGRR; alpha 00 = opaque)
UNSUNG = "&H00FFFFFF"  # white
NEXT = "&H60FFFFFF"  # white, partly transparent
# Pop's three states: words sung already, the one being sung (grown), the ones to come.
POP_SUNG = "&H00A0E8FF"  # pale gold
POP_SINGING = SUNG  # gold, at POP_SCALE %
POP_TO_COME = UNSUNG  # white
POP_SCALE = 118  # the singing word's size, in per cent (the issue asks for 115-120)
OUTLINE = "&H00000000"
NEXT_OUTLINE = "&H60000000"
SHADOW = "&H80000000"
SECOND = UNSUNG  # second lines: plain white, the lyrics' outline
COUNT = SUNG  # the count-in's digits

SECOND_SCALE = 0.62  # a second line's font size, in lyric font sizes
COUNT_SCALE = 2.0  # the count-in's font size, in lyric font sizes
# Room between stacked rows (current line, second line, next line), beyond their outlines, in px.
ROW_GAP = 2
# A display line belongs to a second line's span when its middle lies in the span (±this, s).
SPAN_SLACK = 0.005

_WORD_JOINER = "\u2060"  # invisible; breaks libass escapes like \N after a provider backslash
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# 16:9 at 1280x720: the cover's box (bot/rendering/layout.py LAYOUTS: x 80..600, y 100..620),
# the lyrics' side padding inside it, and the centres of the two lines over its lower part —
# right of it are the title, the author and the visualisation, which lines must not cross.
LANDSCAPE_COVER = (80, 100, 600, 620)
LANDSCAPE_PAD, LANDSCAPE_CURRENT_Y, LANDSCAPE_NEXT_Y = 16, 508, 578
SQUARE_TITLE_Y = 420  # 1:1 at 720x720: the title's top (bot/rendering/layout.py LAYOUTS)
SHADOW_PX = 1  # the styles' shadow depth, right and down
# How far glyphs may reach above the line box (accented capitals), in font sizes.
ACCENT_ROOM = 0.1

# 9:16 at 720x1280: the safe frame's left and right edges and the x its texts are centred on,
# the lyrics' font size and the centres of the two lines (over the lower part of the cover:
# bot/rendering/layout.py LAYOUTS).
SAFE_LEFT, SAFE_RIGHT, SAFE_CENTRE = 40, 607, 323
PORTRAIT_FONT, PORTRAIT_CURRENT_Y, PORTRAIT_NEXT_Y = 48, 580, 650


@dataclass(frozen=True, slots=True)
class AssLayout:
    """Where and how big the lyrics are drawn, in the video's own pixels (PlayResX/Y).

    Lines are centred between the left margin and the right one (`margin_right`, the same as
    `margin_x` when None).
    """

    width: int
    height: int
    font_size: int
    margin_x: int
    current_y: int  # centre of the current line
    next_y: int  # centre of the next line
    font_name: str = "DejaVu Sans"
    margin_right: int | None = None
    second_y: int | None = None  # centre of the second line; None: no room made for one

    @property
    def right_margin(self) -> int:
        """The right margin in pixels."""
        return self.margin_x if self.margin_right is None else self.margin_right

    @property
    def centre_x(self) -> int:
        """The x every line is centred on."""
        return (self.margin_x + self.width - self.right_margin) // 2

    @property
    def outline(self) -> int:
        """The styles' outline width in pixels."""
        return max(1, round(self.font_size / 16))

    @property
    def max_line_width(self) -> float:
        """Room for one line, in multiples of the font size."""
        return (self.width - self.margin_x - self.right_margin) / self.font_size

    @property
    def second_font_size(self) -> int:
        """A second line's font size."""
        return round(self.font_size * SECOND_SCALE)

    @property
    def count_font_size(self) -> int:
        """The count-in digits' font size."""
        return round(self.font_size * COUNT_SCALE)

    @property
    def count_y(self) -> int:
        """Centre of the count-in's digits: right above the current line, clear of its accents."""
        half_line = self.font_size / 2 + ACCENT_ROOM * self.font_size + self.outline
        half_digit = self.count_font_size / 2 + self.outline + SHADOW_PX
        return math.floor(self.current_y - half_line - half_digit - ROW_GAP)

    def with_second_lines(self) -> AssLayout:
        """The layout with a row for second lines between the current and the next line.

        In 9:16 the three rows keep the two lines' centre (over the cover, above the title, in
        the safe frame): the current line moves up, the next line down, each by about half the
        second line's height. In 1:1 and 16:9 the next line keeps its place (just above the
        title in 1:1, level with the visualisation in 16:9: lower would run into them) and the
        rows grow upwards over the cover (docs/architecture.md §9.5)."""
        if self.second_y is not None:
            return self
        size, edge = self.second_font_size, self.outline
        # Centre to centre: half of one row, the other's accent room, both outlines and a gap.
        to_second = math.ceil(
            self.font_size / 2 + SHADOW_PX + (0.5 + ACCENT_ROOM) * size + 2 * edge + ROW_GAP
        )
        to_next = math.ceil(
            size / 2 + SHADOW_PX + (0.5 + ACCENT_ROOM) * self.font_size + 2 * edge + ROW_GAP
        )
        if self.height > self.width:
            middle = (self.current_y + self.next_y) / 2
            current = math.floor(middle - (to_second + to_next) / 2)
        else:
            current = self.next_y - to_second - to_next
        return replace(
            self,
            current_y=current,
            second_y=current + to_second,
            next_y=current + to_second + to_next,
        )

    def second_room(self) -> float:
        """The width second lines are squeezed to, in multiples of their own font size."""
        return self.max_line_width * self.font_size / self.second_font_size

    def room(self, style: LyricStyle) -> float:
        """The width lines are broken to in a style: pop's grown word must still fit."""
        if style is LyricStyle.POP:
            return self.max_line_width * 100 / POP_SCALE
        return self.max_line_width

    def ink_box(
        self, centre_y: int, line_width: float, *, scale: float = 1.0
    ) -> tuple[int, int, int, int]:
        """Left, top, right, bottom bounds of the pixels of a line `line_width` font sizes wide
        (lines.text_width, at most max_line_width once squeezed) centred at `centre_y`:
        outline and shadow included. `scale`: the tallest glyphs' size (pop's singing word
        grows to POP_SCALE %)."""
        half = min(line_width, self.max_line_width) * self.font_size / 2
        size, edge = self.font_size * scale, self.outline
        return (
            math.floor(self.centre_x - half) - edge,
            math.floor(centre_y - size / 2 - ACCENT_ROOM * size) - edge,
            math.ceil(self.centre_x + half) + edge + SHADOW_PX,
            math.ceil(centre_y + size / 2) + edge + SHADOW_PX,
        )


def layout_for(width: int, height: int) -> AssLayout:
    """The layout of a render size: 720x1280, 720x720 and 1280x720, or any scale of them."""
    if height > width:  # 9:16: inside the safe frame
        return _portrait(width, height)
    if width > height:  # 16:9: over the cover's lower part, as in 9:16
        return _landscape(width, height)
    return _square(width, height)


def _square(width: int, height: int) -> AssLayout:
    """Lines over the cover's lower part, the next one ending above the title."""
    font, margin = round(width / 13.85), round(width / 18)
    spacing = round(font * 1.45)
    outline = max(1, round(font / 16))
    next_y = math.floor(SQUARE_TITLE_Y * height / 720 - ROW_GAP - font / 2 - outline - SHADOW_PX)
    return AssLayout(width, height, font, margin, next_y - spacing, next_y)


def _landscape(width: int, height: int) -> AssLayout:
    """Lines over the cover's lower part, inside its left and right edges."""
    scale_x, scale_y = width / 1280, height / 720
    left, _, right, _ = LANDSCAPE_COVER
    return AssLayout(
        width,
        height,
        round(height / 15),
        round((left + LANDSCAPE_PAD) * scale_x),
        round(LANDSCAPE_CURRENT_Y * scale_y),
        round(LANDSCAPE_NEXT_Y * scale_y),
        margin_right=width - round((right - LANDSCAPE_PAD) * scale_x),
    )


def _portrait(width: int, height: int) -> AssLayout:
    """Lines centred on the safe frame's centre, as wide as its edges allow once the outline
    and shadow are added."""
    scale_x, scale_y = width / 720, height / 1280
    font = round(PORTRAIT_FONT * scale_x)
    left, right = math.ceil(SAFE_LEFT * scale_x), math.floor(SAFE_RIGHT * scale_x)
    centre = round(SAFE_CENTRE * scale_x)
    half = min(right - centre - SHADOW_PX, centre - left) - max(1, round(font / 16))
    return AssLayout(
        width,
        height,
        font,
        centre - half,
        round(PORTRAIT_CURRENT_Y * scale_y),
        round(PORTRAIT_NEXT_Y * scale_y),
        margin_right=width - centre - half,
    )


def karaoke_ass(
    lyrics: AlignedLyrics,
    layout: AssLayout,
    *,
    style: LyricStyle = LyricStyle.SWEEP,
    second_lines: Sequence[SecondLine] = (),
    count_in: bool = False,
) -> str | None:
    """The lyrics track of a render, or None when there is nothing to show (instrumental).
    Poorly aligned lyrics show whole lines in either style (their word times are not to be
    trusted). `second_lines` are drawn under the lines they span; `count_in` counts in the
    first line and every line after a long gap (bot/lyrics/count_in.py)."""
    mode = presentation(lyrics)
    if mode is Presentation.NONE:
        return None
    sweep = mode is Presentation.SWEEP
    lines = build_lines(lyrics.words, layout.room(style) if sweep else layout.max_line_width)
    return render_ass(
        lines, layout, sweep=sweep, style=style, second_lines=second_lines, count_in=count_in
    )


def render_ass(
    lines: tuple[LyricLine, ...],
    layout: AssLayout,
    *,
    sweep: bool,
    style: LyricStyle = LyricStyle.SWEEP,
    second_lines: Sequence[SecondLine] = (),
    count_in: bool = False,
) -> str:
    """The ASS document: each line current in its own window, previewed dim in the one before.
    `sweep` False: whole lines, nothing highlighted; else words highlighted in `style`.

    With second lines the layout makes room for them (`AssLayout.with_second_lines`). With a
    count-in, a counted line is current (unsung, its next line dim under it) from its
    count-in's start instead of PRE_ROLL_SECONDS before it."""
    if second_lines:
        layout = layout.with_second_lines()
    counted = set(counted_lines(lines)) if count_in else set()
    events: list[str] = []
    windows: list[tuple[int, int]] = []
    shown_until = 0.0
    room = layout.room(style) if sweep else layout.max_line_width
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        pre_roll = count_in_lead_cs() / 100 if index in counted else PRE_ROLL_SECONDS
        show = max(line.start - pre_roll, shown_until, 0.0)
        hide = line.end + LINGER_SECONDS
        if following is not None:
            hide = min(hide, following.start)
        start_cs, end_cs = _centiseconds(show), max(_centiseconds(hide), _centiseconds(show) + 1)
        window = (start_cs, end_cs)
        windows.append(window)
        if sweep and style is LyricStyle.POP:
            squeeze = _squeeze(line, room)
            for part, text in _pop(line, window, squeeze):
                events.append(_dialogue(part, "Current", layout, line, text, room=room))
        else:
            text = _karaoke(line, start_cs) if sweep else escape_ass_text(line.text)
            events.append(_dialogue(window, "Current", layout, line, text, room=room))
        if following is not None:
            events.append(
                _dialogue(
                    window, "Next", layout, following, escape_ass_text(following.text), room=room
                )
            )
        shown_until = hide
    for index in sorted(counted):
        for beat in count_in_beats(_centiseconds(lines[index].start)):
            at = f"{{\\pos({layout.centre_x},{layout.count_y})}}"
            span = f"{ass_time(beat.start)},{ass_time(beat.end)}"
            events.append(f"Dialogue: 0,{span},Count,,0,0,0,,{at}{beat.digit}\n")
    for second in second_lines:
        events += _second_events(second, lines, windows, layout)
    return _header(layout, seconds=bool(second_lines), count=bool(counted)) + "".join(events)


def _second_events(
    second: SecondLine,
    lines: Sequence[LyricLine],
    windows: Sequence[tuple[int, int]],
    layout: AssLayout,
) -> list[str]:
    """A second line under each display line of its span, while that line is current: one
    event per run of back-to-back windows (a source line re-broken to width is two display
    lines; the second line stays put under whichever is sung). None when no line is in the
    span or the text is empty."""
    text = escape_ass_text(second.text).strip()
    if not text:
        return []
    runs: list[list[int]] = []
    for (start, end), line in zip(windows, lines, strict=True):
        middle = (line.start + line.end) / 2
        if not second.start - SPAN_SLACK <= middle <= second.end + SPAN_SLACK:
            continue
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    assert layout.second_y is not None
    overrides = f"\\pos({layout.centre_x},{layout.second_y})"
    squeeze = _squeeze_text(text, layout.second_room())
    if squeeze < 100:  # wider than the lyrics' room: squeezed to fit, like a too long word
        overrides += f"\\fscx{squeeze}"
    return [
        f"Dialogue: 0,{ass_time(start)},{ass_time(end)},Second,,0,0,0,,{{{overrides}}}{text}\n"
        for start, end in runs
    ]


def escape_ass_text(text: str) -> str:
    """Provider text made inert for ASS: no override blocks, no \\N, \\n or \\h escapes."""
    flat = _WHITESPACE.sub(" ", _CONTROL.sub(" ", text))
    return flat.replace("\\", "\\" + _WORD_JOINER).replace("{", "\\{").replace("}", "\\}")


def ass_time(centiseconds: int) -> str:
    """`H:MM:SS.cc`, the ASS event time format."""
    seconds, cs = divmod(centiseconds, 100)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{cs:02d}"


def _karaoke(line: LyricLine, start_cs: int) -> str:
    # Syllable boundaries are the words' rounded start times, so rounding never accumulates:
    # word k's sweep begins at exactly round(startS·100) cs. A pause inside the line is added to
    # the word before it, which sweeps a little slower.
    bounds = [_centiseconds(word.start) for word in line.words]
    bounds.append(max(_centiseconds(line.end), bounds[-1]))
    parts = [f"{{\\k{bounds[0] - start_cs}}}"] if bounds[0] > start_cs else []
    for index, word in enumerate(line.words):
        following = line.words[index + 1].text if index + 1 < len(line.words) else None
        gap = word_separator(word.text, following) if following is not None else ""
        parts.append(
            f"{{\\kf{bounds[index + 1] - bounds[index]}}}{escape_ass_text(word.text)}{gap}"
        )
    return "".join(parts)


def _pop(
    line: LyricLine, window: tuple[int, int], squeeze: int
) -> list[tuple[tuple[int, int], str]]:
    """Pop's events of the current line: (times, text), back to back over `window`.

    Before the first word everything is to come; word k sings from its start until the next
    word's (a pause inside the line stays on the word before it, as the sweep does), then,
    to the end of the window, everything is sung. Times are clipped to the window; a word
    whose interval rounds to nothing gets no event."""
    count = len(line.words)
    bounds = [_centiseconds(word.start) for word in line.words]
    bounds.append(max(_centiseconds(line.end), bounds[-1]))
    start, end = window
    # (from, to, singing): singing -1 = nothing sung yet, count = everything sung
    spans = [(start, bounds[0], -1)]
    spans += [(bounds[k], bounds[k + 1], k) for k in range(count)]
    spans.append((bounds[-1], end, count))
    events = []
    for span_start, span_end, singing in spans:
        first, last = max(span_start, start), min(span_end, end)
        if last > first:
            events.append(((first, last), _pop_text(line, singing, squeeze)))
    return events


def _pop_text(line: LyricLine, singing: int, squeeze: int) -> str:
    """The line with words before `singing` sung, that one singing (grown), the rest to come."""
    parts = []
    for index, word in enumerate(line.words):
        following = line.words[index + 1].text if index + 1 < len(line.words) else None
        gap = word_separator(word.text, following) if following is not None else ""
        text = escape_ass_text(word.text)
        if index == singing:
            grown = round(squeeze * POP_SCALE / 100)
            parts.append(
                f"{{\\1c{_colour(POP_SINGING)}\\fscx{grown}\\fscy{POP_SCALE}}}{text}"
                f"{{\\fscx{squeeze}\\fscy100}}{gap}"
            )
        else:
            colour = POP_SUNG if index < singing else POP_TO_COME
            parts.append(f"{{\\1c{_colour(colour)}}}{text}{gap}")
    return "".join(parts)


def _colour(style_colour: str) -> str:
    """A style's &HAABBGGRR colour as an override's &HBBGGRR& (alpha is set apart in ASS)."""
    return f"&H{style_colour[-6:]}&"


def _squeeze(line: LyricLine, room: float) -> int:
    """The horizontal scale, in per cent, that fits a line into `room` font sizes (100 unless
    one word is longer than that)."""
    return _squeeze_text(line.text, room)


def _squeeze_text(text: str, room: float) -> int:
    """The horizontal scale, in per cent, that fits `text` into `room` font sizes."""
    width = text_width(text)
    return math.floor(100 * room / width) if width > room else 100


def _dialogue(
    window: tuple[int, int],
    style: str,
    layout: AssLayout,
    line: LyricLine,
    text: str,
    *,
    room: float,
) -> str:
    y = layout.current_y if style == "Current" else layout.next_y
    overrides = f"\\pos({layout.centre_x},{y})"
    squeeze = _squeeze(line, room)
    if squeeze < 100:  # one word longer than the line: squeeze it to fit
        overrides += f"\\fscx{squeeze}"
    start, end = ass_time(window[0]), ass_time(window[1])
    return f"Dialogue: 0,{start},{end},{style},,0,0,0,,{{{overrides}}}{text}\n"


def _header(layout: AssLayout, *, seconds: bool = False, count: bool = False) -> str:
    font, size, margin = layout.font_name, layout.font_size, layout.margin_x
    right, outline = layout.right_margin, layout.outline
    fields = "0,0,0,0,100,100,0,0,1"  # Bold..StrikeOut, ScaleX/Y, Spacing, Angle, BorderStyle
    extra = ""  # styles only documents that use them name, so other documents stay as they were
    if seconds:
        extra += (
            f"Style: Second,{font},{layout.second_font_size},{SECOND},{SECOND},{OUTLINE},"
            f"{SHADOW},{fields},{outline},{SHADOW_PX},5,{margin},{right},0,1\n"
        )
    if count:
        extra += (
            f"Style: Count,{font},{layout.count_font_size},{COUNT},{COUNT},{OUTLINE},"
            f"{SHADOW},{fields},{outline},{SHADOW_PX},5,{margin},{right},0,1\n"
        )
    return (
        "[Script Info]\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {layout.width}\n"
        f"PlayResY: {layout.height}\n"
        "WrapStyle: 2\n"  # never wrap: lines are already broken to fit
        "ScaledBorderAndShadow: yes\n"
        "\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Current,{font},{size},{SUNG},{UNSUNG},{OUTLINE},{SHADOW},{fields},"
        f"{outline},{SHADOW_PX},5,{margin},{right},0,1\n"
        f"Style: Next,{font},{size},{NEXT},{NEXT},{NEXT_OUTLINE},{SHADOW},{fields},"
        f"{outline},0,5,{margin},{right},0,1\n"
        f"{extra}"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )


def _centiseconds(seconds: float) -> int:
    return round(seconds * 100)
