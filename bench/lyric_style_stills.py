"""Still frames of the lyric styles for the README (docs/architecture.md §9.2), made by the
renderer: a 4 s 9:16 render per style over a generated cover, one frame decoded mid-line while
the second word is sung, written as a PNG at half size. Run:
    python -m bench.lyric_style_stills [folder]   (default docs/images)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

from bot.domain import LyricStyle
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import AlignedLyrics, AlignedWord
from bot.rendering import Renderer, RenderSpec, VideoFormat
from bot.rendering.filtergraph import Clip
from bot.rendering.runner import Ffmpeg

AT = 1.55  # "midnight" is being sung: "Shine" and "on" are sung, "highway" to come
WORDS = (
    AlignedWord("Shine", 0.6, 1.0, tags=("Verse",), break_before=True),
    AlignedWord("on", 1.0, 1.3),
    AlignedWord("midnight", 1.3, 1.9),
    AlignedWord("highway", 1.9, 2.6),
    AlignedWord("we", 2.7, 2.9, break_before=True),
    AlignedWord("are", 2.9, 3.1),
    AlignedWord("singing", 3.1, 3.6),
)


async def main(folder: Path) -> None:
    ffmpeg_exe = Path(imageio_ffmpeg.get_ffmpeg_exe())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cover, audio = work / "cover.png", work / "tone.m4a"
        runner = Ffmpeg(ffmpeg_exe)
        await runner.run(
            ["-y", "-f", "lavfi", "-i", "gradients=s=800x800:c0=0x203080:c1=0xa02050:n=2",
             "-frames:v", "1", str(cover)],
            time_limit=60,
        )  # fmt: skip
        await runner.run(
            ["-y", "-f", "lavfi", "-i", "sine=f=220:d=4", "-c:a", "aac", str(audio)],
            time_limit=60,
        )
        renderer = await Renderer.start(ffmpeg_exe, work / "state")
        width, height = VideoFormat.VERTICAL.size
        for style in LyricStyle:
            document = karaoke_ass(AlignedLyrics(WORDS), layout_for(width, height), style=style)
            assert document is not None
            subtitles = work / f"{style.value}.ass"
            subtitles.write_text(document, encoding="utf-8")
            video = await renderer.render(
                RenderSpec(
                    audio=audio,
                    cover=cover,
                    title="Midnight Highway",
                    author="DJ Example",
                    domain="example.com",
                    video_format=VideoFormat.VERTICAL,
                    subtitles=subtitles,
                    clip=Clip(start=0.0, duration=4.0),
                ),
                workdir=work / style.value,
            )
            still = folder / f"lyrics-{style.value}.png"
            await runner.run(
                ["-y", "-ss", f"{AT}", "-i", str(video.path), "-frames:v", "1",
                 "-vf", f"scale={width // 2}:{height // 2}:flags=lanczos", str(still)],
                time_limit=60,
            )  # fmt: skip
            print(f"{still}: {still.stat().st_size / 1e3:.0f} KB")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
