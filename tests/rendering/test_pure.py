"""Pure parts of the renderer: formats, budget, progress, layout, escaping, palette, tags."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.lyrics.ass import layout_for
from bot.rendering.audio_file import parse_ffmetadata, title_from_file_name
from bot.rendering.budget import (
    DEFAULT_MAX_BYTES,
    MIN_VIDEO_KBPS,
    TEASER_MAX_BYTES,
    max_duration,
    plan_bitrates,
)
from bot.rendering.errors import BadInput, TrackTooLong
from bot.rendering.filter_syntax import filter_value
from bot.rendering.filtergraph import (
    Clip,
    RenderPlan,
    TextLayer,
    build_args,
    build_filter_graph,
)
from bot.rendering.formats import VideoFormat, parse_format
from bot.rendering.layout import LAYOUTS, TextSlot, clean_text, fit_text
from bot.rendering.palette import Palette, palette_from_pixels
from bot.rendering.probe import parse_media_info
from bot.rendering.progress import ProgressParser
from bot.rendering.thumbnail import thumbnail_size

SAMPLES = Path(__file__).parents[1] / "samples" / "ffmpeg"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("9:16", VideoFormat.VERTICAL),
        (" 9x16 ", VideoFormat.VERTICAL),
        ("９：１６", VideoFormat.VERTICAL),
        ("1:1", VideoFormat.SQUARE),
        ("Square", VideoFormat.SQUARE),
        ("16×9", VideoFormat.LANDSCAPE),
        ("16:10", None),
        ("", None),
    ],
)
def test_parse_format_tokens(token: str, expected: VideoFormat | None) -> None:
    assert parse_format(token) is expected


def test_format_sizes_are_the_contract() -> None:
    assert VideoFormat.VERTICAL.size == (720, 1280)
    assert VideoFormat.SQUARE.size == (720, 720)
    assert VideoFormat.LANDSCAPE.size == (1280, 720)
    assert [f.value for f in VideoFormat] == ["9:16", "1:1", "16:9"]


def test_three_minutes_get_full_quality_and_ten_minutes_still_fit() -> None:
    short = plan_bitrates(180)
    assert short.audio_kbps == 128
    assert short.video_kbps >= 1500
    long = plan_bitrates(600)
    assert long.worst_case_bytes(600) <= DEFAULT_MAX_BYTES * 0.98
    assert long.video_kbps >= 300


def test_beyond_the_minimal_bitrate_is_a_typed_refusal() -> None:
    limit = max_duration(DEFAULT_MAX_BYTES)
    assert 1500 < limit < 2000
    plan = plan_bitrates(limit - 1)
    assert plan.video_kbps >= MIN_VIDEO_KBPS
    with pytest.raises(TrackTooLong) as info:
        plan_bitrates(limit + 1)
    assert info.value.max_duration == pytest.approx(limit)
    assert "cannot fit into 50 MB" in str(info.value)


@given(
    st.floats(min_value=1, max_value=3000), st.sampled_from([DEFAULT_MAX_BYTES, TEASER_MAX_BYTES])
)
def test_planned_bitrates_always_fit_the_budget(duration: float, max_bytes: int) -> None:
    try:
        plan = plan_bitrates(duration, max_bytes)
    except TrackTooLong:
        assert duration > max_duration(max_bytes) - 1e-6
        return
    assert plan.worst_case_bytes(duration) + 256_000 <= max_bytes
    assert plan.video_kbps >= MIN_VIDEO_KBPS


def test_progress_parser_reports_fractions_per_block_and_end() -> None:
    parser = ProgressParser(duration=4.0)
    lines = ["frame=10", "out_time_us=N/A", "progress=continue", "out_time_us=2000000"]
    reports = [parser.feed(line) for line in lines]
    assert reports == [False, False, True, False]
    assert parser.fraction == 0.5
    assert parser.feed("progress=continue")
    assert parser.feed("out_time_ms=9000000") is False
    assert parser.fraction == 1.0  # clamped
    parser.feed("progress=end")
    assert parser.finished


def test_probe_parser_reads_a_rendered_mp4() -> None:
    info = parse_media_info((SAMPLES / "rendered-9x16.txt").read_text())
    assert info.duration == 180.0
    assert info.bitrate_kbps == 1435
    assert info.video is not None
    assert (info.video.codec, info.video.pixel_format) == ("h264", "yuv420p")
    assert (info.video.width, info.video.height, info.video.fps) == (720, 1280, 25.0)
    assert info.audio is not None
    assert (info.audio.codec, info.audio.sample_rate) == ("aac", 44100)
    assert info.cover is None


def test_probe_parser_finds_an_attached_cover_and_a_voice_message() -> None:
    tagged = parse_media_info((SAMPLES / "tagged-mp3-with-cover.txt").read_text())
    assert tagged.duration == 3.0
    assert tagged.video is None
    assert tagged.cover is not None
    assert (tagged.cover.index, tagged.cover.codec, tagged.cover.width) == (1, "mjpeg", 600)
    voice = parse_media_info((SAMPLES / "voice-ogg.txt").read_text())
    assert voice.duration == 2.51
    assert voice.audio is not None
    assert (voice.audio.codec, voice.audio.sample_rate) == ("opus", 48000)


def test_probe_parser_refuses_what_is_not_media() -> None:
    with pytest.raises(BadInput, match="Invalid data"):
        parse_media_info((SAMPLES / "not-media.txt").read_text())


def test_ffmetadata_tags_undo_escapes() -> None:
    text = (
        ";FFMETADATA1\ntitle=Tit: 'le' \\\\ x\\=y\\;z\\#\n"
        "artist=Art\\\nist\nTITLE=dup\n[STREAM]\ntitle=no\n"
    )
    assert parse_ffmetadata(text) == {"title": "Tit: 'le' \\ x=y;z#", "artist": "Art\nist"}


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("my_song.mp3", "my song"),
        (".hidden", ".hidden"),
        ("a.b.ogg", "a.b"),
        ("___.mp3", "Untitled"),
    ],
)
def test_title_from_file_name(name: str, title: str) -> None:
    assert title_from_file_name(name) == title


def test_clean_text_makes_one_line() -> None:
    assert clean_text("  a\nb\r\n\tc\u2028d\x00e  ") == "a b c d e"


def test_fit_text_shrinks_then_cuts() -> None:
    slot = TextSlot(y=0, size=50, max_width=600)
    assert fit_text("Short", slot) == ("Short", 50)
    text, size = fit_text("x" * 25, slot)
    assert (text, 30 <= size < 50) == ("x" * 25, True)
    cut, size = fit_text("y" * 200, slot)
    assert cut.endswith("…")
    assert len(cut) < 200
    assert size == 30
    cjk, _ = fit_text("漢" * 100, slot)
    assert cjk.endswith("…")
    assert len(cjk) < len(cut)


def test_vertical_visualisation_stays_clear_of_the_lyrics() -> None:
    vis = LAYOUTS[VideoFormat.VERTICAL].visualisation
    lyrics = layout_for(*VideoFormat.VERTICAL.size)
    widest = lyrics.ink_box(lyrics.next_y, lyrics.max_line_width)
    assert widest[3] <= vis.y
    for video_format, layout in LAYOUTS.items():
        width, height = video_format.size
        for box in (layout.cover, layout.visualisation):
            assert 0 <= box.x <= box.x + box.width <= width
            assert 0 <= box.y <= box.y + box.height <= height


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("/tmp/a b/c.txt", "/tmp/a b/c.txt"),
        ("it's", "it\\\\\\'s"),
        ("C:\\x", "C\\\\:\\\\\\\\x"),
        ("a,b;c[d]", "a\\,b\\;c\\[d\\]"),
        (" lead", "\\ lead"),
    ],
)
def test_filter_value_escapes_both_levels(raw: str, escaped: str) -> None:
    assert filter_value(raw) == escaped


def test_filter_value_refuses_line_breaks() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        filter_value("a\nb")


def test_palette_takes_the_mean_and_a_vivid_accent() -> None:
    grey = bytes([100, 100, 100] * 63)
    palette = palette_from_pixels(grey + bytes([10, 200, 30]))
    assert palette.dominant == (98, 101, 98)
    r, g, b = palette.accent
    assert g > 200  # the green cell, made bright
    assert max(r, b) < g
    assert palette_from_pixels(grey).accent[0] == palette_from_pixels(grey).accent[2]  # grey


def test_thumbnail_fits_320() -> None:
    assert thumbnail_size(720, 1280) == (180, 320)
    assert thumbnail_size(1280, 720) == (320, 180)
    assert thumbnail_size(720, 720) == (320, 320)


def _plan(**changes: object) -> RenderPlan:
    layer = TextLayer(Path("/w/it's: a [file];.txt"), "Noto Sans CJK JP", 40)
    plan = RenderPlan(
        audio=Path("/w/a.wav"),
        cover=Path("/w/c.png"),
        output=Path("/w/video.mp4"),
        video_format=VideoFormat.VERTICAL,
        duration=3.0,
        bitrates=plan_bitrates(3.0),
        palette=Palette(dominant=(1, 2, 3), accent=(250, 10, 20)),
        title=layer,
        author=layer,
        domain=None,
    )
    return replace(plan, **changes)  # type: ignore[arg-type]


def test_filter_graph_reads_text_from_files_without_expansion() -> None:
    graph = build_filter_graph(_plan())
    assert graph.count("drawtext=") == 2
    assert graph.count(":expansion=none:") == 2
    assert "textfile=/w/it\\\\\\'s\\\\: a \\[file\\]\\;.txt" in graph
    assert "colors=0xFA0A14|0xFA0A14" in graph
    assert "ass=" not in graph


def test_subtitles_hook_and_teaser_fades() -> None:
    plan = _plan(subtitles=Path("/w/l'y.ass"), clip=Clip(start=10, duration=3.0, fade=1.0))
    graph = build_filter_graph(plan)
    assert "ass=filename=/w/l\\\\\\'y.ass" in graph
    assert "fade=t=out:st=2.000:d=1.000" in graph
    assert "afade=t=in:st=0:d=1.000" in graph
    args = build_args(plan)
    assert args[args.index("-ss") + 1] == "10.000"
    assert args[args.index("-movflags") + 1] == "+faststart"
    assert args[args.index("-pix_fmt") + 1] == "yuv420p"
    assert args[-1] == "/w/video.mp4"


def test_a_wrapped_title_is_two_drawtexts_centred_in_the_safe_frame() -> None:
    second = TextLayer(Path("/w/second.txt"), "DejaVu Sans", 26)
    first = replace(second, file=Path("/w/first.txt"))
    graph = build_filter_graph(_plan(title=first, title_second=second, author=None))
    title = LAYOUTS[VideoFormat.VERTICAL].title
    assert graph.count("drawtext=") == 2
    assert f"first.txt:expansion=none:fontsize=26:fontcolor=white:x=323-text_w/2:y={title.y}:" in (
        graph
    )
    assert (
        f"second.txt:expansion=none:fontsize=26:fontcolor=white:x=323-text_w/2:y={title.y + 32}:"
        in (graph)
    )
    square = build_filter_graph(_plan(video_format=VideoFormat.SQUARE))
    assert "x=(w-text_w)/2:y=420:" in square  # 1:1 stays centred on the frame
