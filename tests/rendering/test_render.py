"""Real renders of short generated clips, checked by probing and decoding the output."""

from __future__ import annotations

import asyncio
import shutil
import struct
import uuid
import zlib
from pathlib import Path

import pytest

from bot.rendering.engine import OUTPUT_NAME, Renderer, RenderSpec
from bot.rendering.errors import BadInput, RenderTimedOut, TrackTooLong
from bot.rendering.filtergraph import Clip
from bot.rendering.fonts import FontReport
from bot.rendering.formats import VideoFormat
from bot.rendering.layout import LAYOUTS
from bot.rendering.probe import Frame, decode_frame, probe
from bot.rendering.runner import Ffmpeg
from tests.rendering.conftest import FFMPEG, RED, make_media, processes_with

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")


def _is_red(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return r > 180 and g < 70 and b < 70


def _bright_pixels(frame: Frame, top: int, bottom: int) -> int:
    """Near-white pixels in rows top..bottom (white text on the dark, blurred fill)."""
    count = 0
    for y in range(top, bottom):
        for x in range(0, frame.width, 2):
            if min(frame.pixel(x, y)) > 200:
                count += 1
    return count


@pytest.mark.parametrize("video_format", list(VideoFormat))
async def test_render_has_the_promised_facts_and_look(
    renderer: Renderer, media: Path, tmp_path: Path, video_format: VideoFormat
) -> None:
    progress: list[float] = []
    video = await renderer.render(
        RenderSpec(
            audio=media / "tone.wav",
            cover=media / "red.png",
            title="Midnight Drive",
            author="DJ Test",
            domain="example.com",
            video_format=video_format,
        ),
        workdir=tmp_path,
        on_progress=progress.append,
    )
    width, height = video_format.size
    assert (video.width, video.height) == (width, height)
    assert video.duration == pytest.approx(3.0, abs=0.1)
    assert video.size == video.path.stat().st_size <= 50_000_000
    assert progress
    assert progress[-1] == 1.0

    info = await probe(renderer.ffmpeg, video.path)
    assert info.video is not None
    assert info.audio is not None
    assert (info.video.codec, info.video.pixel_format) == ("h264", "yuv420p")
    assert info.audio.codec == "aac"
    assert info.duration == pytest.approx(3.0, abs=0.1)
    head = video.path.read_bytes()[:200_000]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")  # +faststart

    thumb = await probe(renderer.ffmpeg, video.thumbnail)
    assert thumb.video is not None
    assert thumb.video.codec == "mjpeg"
    assert max(thumb.video.width or 0, thumb.video.height or 0) == 320
    assert video.thumbnail.stat().st_size <= 200_000

    frame = await decode_frame(renderer.ffmpeg, video.path, 1.5, width, height)
    layout = LAYOUTS[video_format]
    cover = layout.cover
    assert _is_red(frame.pixel(cover.x + cover.width // 2, cover.y + cover.height // 2))
    assert not _is_red(frame.pixel(4, 4))  # the blurred fill is darkened
    title_rows = (layout.title.y, layout.title.y + layout.title.size)
    assert _bright_pixels(frame, *title_rows) > 50
    vis = layout.visualisation
    accent = [
        frame.pixel(x, y)
        for y in range(vis.y, vis.y + vis.height, 2)
        for x in range(vis.x, vis.x + vis.width, 4)
        if frame.pixel(x, y)[0] > 150
    ]
    assert len(accent) > 20  # the waveform, drawn in the cover's (red) accent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thumbnail.jpg", OUTPUT_NAME]


async def test_without_title_there_are_no_text_pixels(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    video = await renderer.render(
        RenderSpec(
            audio=media / "tone.wav",
            cover=media / "red.png",
            title="",
            video_format=VideoFormat.SQUARE,
            clip=SHORT,
        ),
        workdir=tmp_path,
    )
    frame = await decode_frame(renderer.ffmpeg, video.path, 0.5, 720, 720)
    title = LAYOUTS[VideoFormat.SQUARE].title
    assert _bright_pixels(frame, title.y, title.y + title.size) == 0


SHORT = Clip(start=0.0, duration=1.2)  # enough frames to see per-frame expansion; fast
HOSTILE = [
    'it\'s "quoted"',
    "a: b\\: c \\\\ d",
    "%{pts} %{eif\\:1/0\\:d} %{n}",
    "line one\nline two\r\nthree",
    "x;[v]drawbox=c=red:t=fill[w],y",
    "[0:v] , ; ' \\' \\\\'",
    "Привет 漢字 \t tab",
]


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_text_neither_breaks_nor_injects(
    renderer: Renderer, media: Path, tmp_path: Path, hostile: str
) -> None:
    video = await renderer.render(
        RenderSpec(
            audio=media / "tone.wav",
            cover=media / "red.png",
            title=hostile,
            author=hostile,
            domain=hostile,
            video_format=VideoFormat.SQUARE,
            clip=SHORT,
        ),
        workdir=tmp_path,
    )
    early = await decode_frame(renderer.ffmpeg, video.path, 0.1, 720, 720)
    late = await decode_frame(renderer.ffmpeg, video.path, 1.0, 720, 720)
    title = LAYOUTS[VideoFormat.SQUARE].title
    rows = slice(title.y * 720 * 3, (title.y + title.size) * 720 * 3)
    assert _bright_pixels(early, title.y, title.y + title.size) > 30
    # Nothing is expanded per frame (%{n}, %{pts}): the title band differs by codec noise only.
    changed = sum(
        1 for a, b in zip(early.rgb[rows], late.rgb[rows], strict=True) if abs(a - b) > 60
    )
    assert changed < 20
    cover = LAYOUTS[VideoFormat.SQUARE].cover
    assert _is_red(early.pixel(cover.x + 10, cover.y + 10))


async def test_hostile_file_and_folder_names(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    odd = tmp_path / "we'ird: [dir], x;y \\ %{n}"
    odd.mkdir()
    audio = shutil.copy(media / "tone.wav", odd / "a'b:c,[d];e.wav")
    cover = shutil.copy(media / "red.png", odd / "c'o:v,e[r];.png")
    subtitles = odd / "ly'r:ics,[1];.ass"
    subtitles.write_text(_ass("Hello"), encoding="utf-8")
    video = await renderer.render(
        RenderSpec(
            audio=Path(audio),
            cover=Path(cover),
            title="T",
            subtitles=subtitles,
            video_format=VideoFormat.SQUARE,
            clip=SHORT,
        ),
        workdir=odd / "out: 'x'",
    )
    assert video.duration == pytest.approx(1.2, abs=0.1)


def _ass(text: str) -> str:
    return (
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 720\nPlayResY: 1280\n\n"
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
        "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
        "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: Default,Sans,120,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,1,0,0,0,100,100,"
        "0,0,1,0,0,5,10,10,10,1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, "
        "MarginL, MarginR, MarginV, Effect, Text\n"
        f"Dialogue: 0,0:00:00.00,0:00:10.00,Default,,0,0,0,,{text}\n"
    )


async def test_subtitles_are_burned_into_the_middle(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    subtitles = tmp_path / "lyrics.ass"
    subtitles.write_text(_ass("HHHH"), encoding="utf-8")
    spec = RenderSpec(
        audio=media / "tone.wav", cover=media / "red.png", title="T", subtitles=subtitles
    )
    video = await renderer.render(spec, workdir=tmp_path / "with")
    frame = await decode_frame(renderer.ffmpeg, video.path, 1.0, 720, 1280)
    assert _bright_pixels(frame, 560, 720) > 200  # white letters over the red cover


async def test_teaser_clip_is_cut_and_faded(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    video = await renderer.render(
        RenderSpec(
            audio=media / "tone.wav",
            cover=media / "red.png",
            title="T",
            clip=Clip(start=0.5, duration=2.0, fade=0.8),
            max_bytes=30_000_000,
        ),
        workdir=tmp_path,
    )
    assert video.duration == pytest.approx(2.0, abs=0.1)
    cover = LAYOUTS[VideoFormat.VERTICAL].cover
    centre = (cover.x + cover.width // 2, cover.y + cover.height // 2)
    first = await decode_frame(renderer.ffmpeg, video.path, 0.0, 720, 1280)
    middle = await decode_frame(renderer.ffmpeg, video.path, 1.0, 720, 1280)
    assert first.pixel(*centre)[0] < 100  # faded in from black
    assert _is_red(middle.pixel(*centre))


async def test_no_cover_or_a_broken_one_gets_a_generated_background(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    for cover in (None, broken):
        workdir = tmp_path / ("none" if cover is None else "broken")
        video = await renderer.render(
            RenderSpec(
                audio=media / "tone.wav",
                cover=cover,
                title="No Art",
                video_format=VideoFormat.SQUARE,
                clip=SHORT,
            ),
            workdir=workdir,
        )
        assert video.cover == workdir / "generated-cover.png"
        assert video.cover.stat().st_size > 0
        frame = await decode_frame(renderer.ffmpeg, video.path, 0.5, 720, 720)
        box = LAYOUTS[VideoFormat.SQUARE].cover
        assert sum(frame.pixel(box.x + 20, box.y + 20)) > 30  # not black: a gradient


async def test_too_long_for_the_budget_is_refused_before_encoding(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    with pytest.raises(TrackTooLong):
        await renderer.render(
            RenderSpec(
                audio=media / "tone.wav", cover=media / "red.png", title="T", max_bytes=300_000
            ),
            workdir=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []


async def test_not_audio_is_bad_input(renderer: Renderer, media: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        await renderer.render(
            RenderSpec(audio=media / "red.png", cover=None, title="T"), workdir=tmp_path
        )
    assert list(tmp_path.iterdir()) == []


async def test_cancel_stops_ffmpeg_and_removes_every_file(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    started = asyncio.Event()
    marker = uuid.uuid4().hex
    workdir = tmp_path / marker  # the output path carries the marker into ffmpeg's argv
    task = asyncio.create_task(
        renderer.render(
            RenderSpec(audio=media / "tone.wav", cover=None, title="T"),
            workdir=workdir,
            on_progress=lambda _: started.set(),
        )
    )
    async with asyncio.timeout(30):
        while not any(str(workdir) + "/video.mp4" in _argv(p) for p in processes_with(marker)):
            await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert processes_with(marker) == []
    assert list(workdir.iterdir()) == []


def _argv(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


async def test_time_limit_stops_the_render(
    font_report: FontReport, media: Path, tmp_path: Path
) -> None:
    slow = Renderer(Ffmpeg(FFMPEG), font_report, time_limit_base=0.3, time_limit_per_second=0)
    with pytest.raises(RenderTimedOut):
        await slow.render(
            RenderSpec(audio=media / "tone.wav", cover=media / "red.png", title="T"),
            workdir=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []


async def test_a_cover_over_4096_is_scaled_down_before_the_render(
    renderer: Renderer, tmp_path: Path
) -> None:
    big = tmp_path / "big-cover.png"
    make_media(
        *("-f", "lavfi", "-i", "color=c=0x{:02X}{:02X}{:02X}:s=5000x4200".format(*RED)),
        *("-frames:v", "1", str(big)),
    )
    media = tmp_path / "tone.wav"
    make_media("-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=22050", str(media))
    workdir = tmp_path / "work"
    video = await renderer.render(
        RenderSpec(audio=media, cover=big, title="Big Art", video_format=VideoFormat.SQUARE),
        workdir=workdir,
    )
    assert video.cover == workdir / "scaled-cover.png"
    shown = (await probe(renderer.ffmpeg, video.cover)).video
    assert shown is not None
    assert (shown.width, shown.height) == (2048, 1720)  # aspect kept, within 4096x4096
    frame = await decode_frame(renderer.ffmpeg, video.path, 1.0, 720, 720)
    box = LAYOUTS[VideoFormat.SQUARE].cover
    assert _is_red(frame.pixel(box.x + box.width // 2, box.y + box.height // 2))


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims a huge picture (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x00" * 3 * 64)  # one short row; the rest missing
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def test_a_cover_too_large_to_decode_gets_the_generated_background(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(30_000, 30_000))
    workdir = tmp_path / "work"
    video = await renderer.render(
        RenderSpec(
            audio=media / "tone.wav",
            cover=bomb,
            title="Bomb",
            video_format=VideoFormat.SQUARE,
            clip=SHORT,
        ),
        workdir=workdir,
    )
    assert video.cover == workdir / "generated-cover.png"
