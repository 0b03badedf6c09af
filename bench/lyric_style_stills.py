"""Still frames of the lyric styles for the README (docs/architecture.md §9.2), made by the
renderer: a 4 s 9:16 render per style over a generated cover, one frame decoded mid-line while
the second word is sung, written as a PNG at half size. Run:
    python -m bench.lyric_style_stills [folder]   (default docs/images)
"""

from __future__ import annotations

from pathlib import Path

from bench.still_frames import WORDS, example_spec, half_size_still, run_stills, workspace
from bot.domain import LyricStyle
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import AlignedLyrics
from bot.rendering import VideoFormat
from bot.rendering.filtergraph import Clip

AT = 1.55  # "midnight" is being sung: "Shine" and "on" are sung, "highway" to come


async def main(folder: Path) -> None:
    async with workspace() as space:
        work, cover, runner, renderer = space.work, space.cover, space.runner, space.renderer
        audio = work / "tone.m4a"
        await runner.run(
            ["-y", "-f", "lavfi", "-i", "sine=f=220:d=4", "-c:a", "aac", str(audio)],
            time_limit=60,
        )
        width, height = VideoFormat.VERTICAL.size
        for style in LyricStyle:
            document = karaoke_ass(AlignedLyrics(WORDS), layout_for(width, height), style=style)
            assert document is not None
            subtitles = work / f"{style.value}.ass"
            subtitles.write_text(document, encoding="utf-8")
            video = await renderer.render(
                example_spec(audio, cover, subtitles, clip=Clip(start=0.0, duration=4.0)),
                workdir=work / style.value,
            )
            still = folder / f"lyrics-{style.value}.png"
            await half_size_still(runner, video.path, still, seek=AT)
            print(f"{still}: {still.stat().st_size / 1e3:.0f} KB")


if __name__ == "__main__":
    run_stills(main)
