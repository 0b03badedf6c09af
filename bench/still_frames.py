"""Shared scaffolding of the README's still frames (bench.look_stills, bench.lyric_style_stills):
the example lyrics, a work folder with an ffmpeg runner, a renderer and a generated gradient
cover, the example 9:16 render spec and one frame of a render written as a PNG at half size.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from bot.lyrics.model import AlignedWord
from bot.rendering import Renderer, RenderSpec, VideoFormat
from bot.rendering.runner import Ffmpeg

WORDS = (
    AlignedWord("Shine", 0.6, 1.0, tags=("Verse",), break_before=True),
    AlignedWord("on", 1.0, 1.3),
    AlignedWord("midnight", 1.3, 1.9),
    AlignedWord("highway", 1.9, 2.6),
    AlignedWord("we", 2.7, 2.9, break_before=True),
    AlignedWord("are", 2.9, 3.1),
    AlignedWord("singing", 3.1, 3.6),
)


async def gradient_cover(runner: Ffmpeg, cover: Path, seed: int | None = None) -> None:
    """An 800x800 blue-to-pink gradient cover; `seed` fixes ffmpeg's random gradient layout."""
    source = "gradients=s=800x800:c0=0x203080:c1=0xa02050:n=2"
    if seed is not None:
        source += f":seed={seed}"
    await runner.run(
        ["-y", "-f", "lavfi", "-i", source, "-frames:v", "1", str(cover)], time_limit=60
    )


@dataclass(frozen=True)
class Workspace:
    """A temporary folder holding the cover, with the tools a stills script renders with."""

    work: Path
    cover: Path
    runner: Ffmpeg
    renderer: Renderer


@asynccontextmanager
async def workspace(seed: int | None = None) -> AsyncIterator[Workspace]:
    """A temporary work folder with a gradient cover (see `gradient_cover`) and a renderer."""
    ffmpeg_exe = Path(imageio_ffmpeg.get_ffmpeg_exe())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runner = Ffmpeg(ffmpeg_exe)
        await gradient_cover(runner, work / "cover.png", seed)
        renderer = await Renderer.start(ffmpeg_exe, work / "state")
        yield Workspace(work, work / "cover.png", runner, renderer)


def example_spec(audio: Path, cover: Path, subtitles: Path, **extra: Any) -> RenderSpec:
    """The README's vertical render of "Midnight Highway"; `extra` adds spec fields."""
    return RenderSpec(
        audio=audio,
        cover=cover,
        title="Midnight Highway",
        author="DJ Example",
        domain="example.com",
        video_format=VideoFormat.VERTICAL,
        subtitles=subtitles,
        **extra,
    )


async def half_size_still(
    runner: Ffmpeg, video: Path, still: Path, *, seek: float | None = None, select: str = ""
) -> None:
    """One frame of `video` (at `seek` seconds, or the first one `select` passes) halved, as PNG."""
    width, height = VideoFormat.VERTICAL.size
    filters = [*([select] if select else []), f"scale={width // 2}:{height // 2}:flags=lanczos"]
    start = ["-ss", f"{seek}"] if seek is not None else []
    await runner.run(
        ["-y", *start, "-i", str(video), "-frames:v", "1", "-vf", ",".join(filters), str(still)],
        time_limit=60,
    )


def run_stills(main: Callable[[Path], Coroutine[Any, Any, None]]) -> None:
    """The stills scripts' entry point: `main` into the folder in argv[1] (default docs/images)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
