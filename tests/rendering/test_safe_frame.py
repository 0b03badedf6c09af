"""The 9:16 frame clear of the short-video apps' buttons (docs/architecture.md §8.7).

Every box a viewer must read (title, author, watermark, two lines of lyrics with a second line
between them, a count-in's digits) and the cover and
visualisation lie inside SAFE_FRAME (x 40..607, y 167..1000 at 720x1280): first over the
computed boxes, then by decoding a real render and diffing it against one without any text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import LyricStyle
from bot.lyrics import ass
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.lines import build_lines, text_width
from bot.lyrics.model import AlignedLyrics, AlignedWord, SecondLine
from bot.rendering.engine import Renderer, RenderSpec
from bot.rendering.filtergraph import Clip
from bot.rendering.formats import VideoFormat
from bot.rendering.layout import (
    LAYOUTS,
    SAFE_CENTRE,
    SAFE_FRAME,
    Box,
    TextSlot,
    clean_text,
    fit_lines,
    lines_box,
)
from bot.rendering.probe import Frame, decode_frame
from tests.rendering.conftest import make_media

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

VERTICAL = LAYOUTS[VideoFormat.VERTICAL]
WIDTH, HEIGHT = VideoFormat.VERTICAL.size
LONG_TITLES = [
    "Midnight Drive Through The Endless Neon Boulevard Of Broken Dreams (Extended Remix)",
    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
    "Полночная поездка по бесконечному неоновому бульвару разбитых надежд",
    "ЖЖЖЩЩЩШШШЮЮЮЖЖЖЩЩЩШШШЮЮЮЖЖЖЩЩЩШШШЮЮЮ",
    "真夜中のドライブ・終わらないネオンの大通りと壊れた夢の物語",
    "Midnight 真夜中 Полночь Drive ドライブ Поездка Forever 永遠に Навсегда",
    "mmmmmmmmmm",
    "Short",
]
LONG_WATERMARKS = ["example.com", "the-longest-domain-name-anyone-ever-registered.example.org"]
LYRIC_LINES = [
    "We were running through the midnight city lights forever and ever again",
    "Мы бежали сквозь полночный город щедрых жёлтых огней навсегда",
    "真夜中の街の光を駆け抜けていく二人はずっと永遠に",
    "Supercalifragilisticexpialidociousandmoreandmore",
    "ЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩЩ",
]


def _slots() -> list[TextSlot]:
    return [VERTICAL.title, VERTICAL.author, VERTICAL.domain]


def _box(text: str, slot: TextSlot) -> Box:
    lines, size = fit_lines(clean_text(text), slot)
    return lines_box(lines, size, slot, WIDTH)


def test_the_safe_frame_is_the_issues_rectangle() -> None:
    assert (SAFE_FRAME.x, SAFE_FRAME.right, SAFE_FRAME.y, SAFE_FRAME.bottom) == (40, 607, 167, 1000)
    # bot/lyrics may not import the renderer, so it keeps its own copy of the numbers.
    assert (ass.SAFE_LEFT, ass.SAFE_RIGHT, ass.SAFE_CENTRE) == (40, 607, SAFE_CENTRE)


@pytest.mark.parametrize("text", LONG_TITLES + LONG_WATERMARKS)
def test_every_text_box_lies_in_the_safe_frame(text: str) -> None:
    for slot in _slots():
        box = _box(text, slot)
        assert SAFE_FRAME.contains(box), (slot, box)


@given(st.text(min_size=1, max_size=300))
def test_any_title_fits_the_safe_frame(text: str) -> None:
    for slot in _slots():
        assert SAFE_FRAME.contains(_box(text, slot))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Midnight Drive", ("Midnight Drive",)),
        (LONG_TITLES[0][:49], ("Midnight Drive Through The", "Endless Neon Boulevard")),
        (LONG_TITLES[4], ("真夜中のドライブ・終わらない", "ネオンの大通りと壊れた夢の物語")),
        (LONG_TITLES[1], ("W" * 19 + "…",)),  # nowhere to break: one line, cut
    ],
)
def test_long_titles_wrap_onto_two_lines(text: str, expected: tuple[str, ...]) -> None:
    lines, size = fit_lines(text, VERTICAL.title)
    assert lines == expected
    assert size >= 20
    assert SAFE_FRAME.contains(lines_box(lines, size, VERTICAL.title, WIDTH))


def test_a_very_long_title_is_cut_at_the_end_of_its_second_line() -> None:
    lines, size = fit_lines(LONG_TITLES[0] * 3, VERTICAL.title)
    assert len(lines) == 2
    assert lines[0] + " " + lines[1][:-1] in LONG_TITLES[0] * 3
    assert lines[1].endswith("…")
    assert SAFE_FRAME.contains(lines_box(lines, size, VERTICAL.title, WIDTH))


def test_cover_and_visualisation_lie_in_the_safe_frame() -> None:
    assert SAFE_FRAME.contains(VERTICAL.cover)
    assert SAFE_FRAME.contains(VERTICAL.visualisation)


def test_readable_boxes_do_not_overlap_each_other() -> None:
    tallest = LONG_TITLES[0]
    title, author, domain = (_box(tallest, slot) for slot in _slots())
    lyrics = layout_for(WIDTH, HEIGHT)
    lyric_bottom = lyrics.ink_box(lyrics.next_y, lyrics.max_line_width)[3]
    vis = VERTICAL.visualisation
    assert lyric_bottom <= title.y  # the lyrics sit over the cover, above the title
    assert title.bottom <= author.y
    assert author.bottom <= vis.y
    assert vis.bottom <= domain.y


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (360, 640), (1080, 1920)])
def test_two_lines_of_lyrics_lie_in_the_safe_frame(width: int, height: int) -> None:
    layout = layout_for(width, height)
    scale = width / 720
    safe = (
        SAFE_FRAME.x * scale,
        SAFE_FRAME.y * scale,
        SAFE_FRAME.right * scale,
        SAFE_FRAME.bottom * scale,
    )
    words = [
        AlignedWord(word, 0.5 * i, 0.5 * i + 0.4, break_before=j == 0)
        for i, (j, word) in enumerate(
            (j, word)
            for line in LYRIC_LINES
            for j, word in enumerate(line.split() if " " in line else [line])
        )
    ]
    lines = build_lines(words, layout.max_line_width)
    assert len(lines) > len(LYRIC_LINES)  # long lines were broken
    for line in lines:
        for centre_y in (layout.current_y, layout.next_y):
            left, top, right, bottom = layout.ink_box(centre_y, text_width(line.text))
            assert safe[0] <= left
            assert safe[1] <= top
            assert right <= safe[2]
            assert bottom <= safe[3]
    document = karaoke_ass(AlignedLyrics(tuple(words)), layout)
    assert document is not None
    positions = set(re.findall(r"\\pos\((\d+),(\d+)\)", document))
    assert positions == {
        (str(layout.centre_x), str(layout.current_y)),
        (str(layout.centre_x), str(layout.next_y)),
    }


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (360, 640), (1080, 1920)])
def test_pop_lyrics_with_the_grown_word_lie_in_the_safe_frame(width: int, height: int) -> None:
    """`/lyrics pop` grows the singing word to POP_SCALE %: lines broken narrower keep every
    state of every line, grown word included, inside the frame (docs/architecture.md §9.2)."""
    layout = layout_for(width, height)
    scale = width / 720
    safe = (SAFE_FRAME.x * scale, SAFE_FRAME.y * scale)
    safe_end = (SAFE_FRAME.right * scale, SAFE_FRAME.bottom * scale)
    words = [
        AlignedWord(word, 0.5 * i, 0.5 * i + 0.4, break_before=j == 0)
        for i, (j, word) in enumerate(
            (j, word)
            for line in LYRIC_LINES
            for j, word in enumerate(line.split() if " " in line else [line])
        )
    ]
    grown = ass.POP_SCALE / 100
    for line in build_lines(words, layout.room(LyricStyle.POP)):
        for word in line.words:  # the line while `word` is sung
            width_sung = text_width(line.text) + (grown - 1) * text_width(word.text)
            for centre_y in (layout.current_y, layout.next_y):
                left, top, right, bottom = layout.ink_box(centre_y, width_sung, scale=grown)
                assert safe[0] <= left
                assert safe[1] <= top
                assert right <= safe_end[0]
                assert bottom <= safe_end[1]
    lyrics = layout.ink_box(layout.next_y, layout.max_line_width, scale=grown)
    assert lyrics[3] <= VERTICAL.title.y * scale  # still above the title


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (360, 640), (1080, 1920)])
@pytest.mark.parametrize("text", [*LYRIC_LINES, LYRIC_LINES[0] * 3])
def test_second_lines_and_count_ins_lie_in_the_safe_frame(
    width: int, height: int, text: str
) -> None:
    """With second lines the three rows (current, second, next) and the count-in's digit stay
    inside the frame and above the title; a long second line is squeezed to the lyrics' width
    (docs/architecture.md §9.5, §9.6)."""
    plain = layout_for(width, height)
    layout = plain.with_second_lines()
    assert layout.second_y is not None
    scale = width / 720
    left, top = SAFE_FRAME.x * scale, SAFE_FRAME.y * scale
    right, bottom = SAFE_FRAME.right * scale, SAFE_FRAME.bottom * scale
    words = (AlignedWord("la", 1.0, 1.5, break_before=True), AlignedWord("la", 2.0, 2.5))
    document = karaoke_ass(
        AlignedLyrics(words), plain, second_lines=(SecondLine(1.0, 2.5, text),), count_in=True
    )
    assert document is not None
    second = re.search(r",Second,,0,0,0,,\{\\pos\((\d+),(\d+)\)(?:\\fscx(\d+))?\}", document)
    assert second is not None
    assert (int(second[1]), int(second[2])) == (layout.centre_x, layout.second_y)
    squeeze = int(second[3] or 100) / 100
    # The second line's ink, in lyric font sizes: its own width at its size, squeezed.
    ratio = layout.second_font_size / layout.font_size
    width_drawn = text_width(ass.escape_ass_text(text)) * ratio * squeeze
    assert width_drawn <= layout.max_line_width + 1e-9
    size, edge = layout.second_font_size, layout.outline
    box = (
        layout.centre_x - width_drawn * layout.font_size / 2 - edge,
        layout.second_y - size / 2 - ass.ACCENT_ROOM * size - edge,
        layout.centre_x + width_drawn * layout.font_size / 2 + edge + ass.SHADOW_PX,
        layout.second_y + size / 2 + edge + ass.SHADOW_PX,
    )
    digit = layout.count_font_size
    count_box = layout.ink_box(layout.count_y, 1.0, scale=ass.COUNT_SCALE)
    for x0, y0, x1, y1 in (
        box,
        count_box,
        layout.ink_box(layout.current_y, layout.max_line_width),
        layout.ink_box(layout.next_y, layout.max_line_width),
    ):
        assert left <= x0
        assert top <= y0
        assert x1 <= right
        assert y1 <= bottom
    assert digit > layout.font_size
    assert layout.ink_box(layout.next_y, 1.0)[3] <= VERTICAL.title.y * scale


def test_other_formats_keep_their_layout() -> None:
    assert LAYOUTS[VideoFormat.SQUARE].title == TextSlot(y=420, size=40, max_width=660)
    assert LAYOUTS[VideoFormat.LANDSCAPE].cover == Box(80, 100, 520, 520)
    assert layout_for(720, 720).centre_x == 360
    assert layout_for(1280, 720).centre_x == 340  # over the cover, clear of the right column


# --- real decoding -------------------------------------------------------------------------

CLIP = Clip(start=0.0, duration=2.0)
SUNG_AT = 1.2  # both lyric lines are on screen, the first being swept


@pytest.fixture(scope="module")
def black_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A black cover (so the blurred fill and the cover stay black), a tone and lyrics."""
    folder = tmp_path_factory.mktemp("safe")
    cover, audio, lyrics = folder / "black.png", folder / "tone.wav", folder / "lyrics.ass"
    make_media("-f", "lavfi", "-i", "color=c=black:s=400x400", "-frames:v", "1", str(cover))
    make_media("-f", "lavfi", "-i", "sine=f=330:d=2:sample_rate=22050", str(audio))
    words = (
        *(AlignedWord(w, 0.3 + 0.1 * i, 0.35 + 0.1 * i) for i, w in enumerate(_first_line())),
        AlignedWord("Мы", 1.5, 1.6, break_before=True),
        *(AlignedWord(w, 1.6 + 0.01 * i, 1.605 + 0.01 * i) for i, w in enumerate(_second_line())),
    )
    # The widest second line, squeezed to the lyrics' width, between the two lines.
    translation = SecondLine(0.3, 0.65, "ЖЩШ Ю " * 12)
    document = karaoke_ass(
        AlignedLyrics(words, hoot_cer=0.1), layout_for(WIDTH, HEIGHT), second_lines=(translation,)
    )
    assert document is not None
    assert document.count("Dialogue:") >= 3
    lyrics.write_text(document, encoding="utf-8")
    return cover, audio, lyrics


def _first_line() -> list[str]:
    return ["WWW", "Midnight", "Wonderful", "Wandering"]


def _second_line() -> list[str]:
    return ["ЖЩШ", "бежали", "сквозь", "полночный"]


def _text_pixels(with_text: Frame, without: Frame) -> list[tuple[int, int]]:
    """Pixels the texts changed (brighter than the textless render by more than codec noise)."""
    changed = []
    for y in range(HEIGHT):
        row = y * WIDTH * 3
        for x in range(WIDTH):
            i = row + 3 * x
            a, b = with_text.rgb[i : i + 3], without.rgb[i : i + 3]
            if max(abs(a[0] - b[0]), abs(a[1] - b[1]), abs(a[2] - b[2])) > 48:
                changed.append((x, y))
    return changed


async def test_rendered_texts_stay_in_the_safe_frame(
    renderer: Renderer, black_inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cover, audio, lyrics = black_inputs
    bare = await renderer.render(
        RenderSpec(audio=audio, cover=cover, title="", clip=CLIP), workdir=tmp_path / "bare"
    )
    without = await decode_frame(renderer.ffmpeg, bare.path, SUNG_AT, WIDTH, HEIGHT)
    xs: list[int] = []
    # Wrapped CJK, wrapped and cut Latin, the widest Latin on one line.
    for index, title in enumerate((LONG_TITLES[4], LONG_TITLES[0] * 2, LONG_TITLES[1])):
        spec = RenderSpec(
            audio=audio,
            cover=cover,
            title=title,
            author="Полночь Жёлтый ЩЩЩ — DJ Wandering Wombat",
            domain=LONG_WATERMARKS[1],
            subtitles=lyrics,
            clip=CLIP,
        )
        video = await renderer.render(spec, workdir=tmp_path / f"texts-{index}")
        frame = await decode_frame(renderer.ffmpeg, video.path, SUNG_AT, WIDTH, HEIGHT)
        changed = _text_pixels(frame, without)
        assert len(changed) > 5000  # four texts and two lines of lyrics were drawn
        outside = [(x, y) for x, y in changed if not (40 <= x < 607 and 167 <= y < 1000)]
        assert outside == []
        ys = [y for _, y in changed]
        assert max(ys) > VERTICAL.domain.y  # the watermark was drawn
        lyric_rows = range(VERTICAL.cover.y, VERTICAL.title.y)
        assert sum(1 for y in ys if y in lyric_rows) > 1000  # and the lyrics
        xs += [x for x, _ in changed]
    # The long titles really reach out towards the frame's edges, so the check could fail.
    assert min(xs) < 60
    assert max(xs) > 585
