"""Still frames of the looks for the README (docs/architecture.md §9.3), made by the renderer: a
4 s 9:16 render per look of a generated 128 BPM track (kicks, hats, bass, pads) over a
generated cover, its beats from the bot's own analysis, the word sweep over it; one frame
decoded on a beat (pulse and bars show the cover grown), written as a PNG at half size. Run:
    python -m bench.look_stills [folder]   (default docs/images)
"""

from __future__ import annotations

from pathlib import Path

from bench.still_frames import WORDS, example_spec, half_size_still, run_stills, workspace
from bot.domain import Look
from bot.engine.track_analyses import motion_of
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import AlignedLyrics
from bot.music.track import analyse_track
from bot.rendering import VideoFormat, Visualisation
from bot.rendering.filtergraph import FPS
from tests.music.tracks import beat_track

SECONDS = 4.0
AFTER = 1.5  # the still is the first beat after this (the second word is being sung)


async def main(folder: Path) -> None:
    async with workspace(seed=3) as space:
        work, cover, runner, renderer = space.work, space.cover, space.runner, space.renderer
        audio = work / "beats.m4a"
        wav = beat_track(128.0, SECONDS).write(work / "beats.wav")
        await runner.run(["-y", "-i", str(wav), "-c:a", "aac", str(audio)], time_limit=60)
        motion = motion_of(await analyse_track(runner, audio))
        assert motion is not None, "the generated track's beats must be trusted"
        frame = round(min(beat for beat in motion.beats if beat > AFTER) * FPS)
        width, height = VideoFormat.VERTICAL.size
        document = karaoke_ass(AlignedLyrics(WORDS), layout_for(width, height))
        assert document is not None
        subtitles = work / "lyrics.ass"
        subtitles.write_text(document, encoding="utf-8")
        for look in Look:
            video = await renderer.render(
                example_spec(
                    audio,
                    cover,
                    subtitles,
                    motion=None if look is Look.CALM else motion,
                    visualisation=Visualisation.BARS if look is Look.BARS else Visualisation.WAVES,
                ),
                workdir=work / look.value,
            )
            still = folder / f"look-{look.value}.png"
            await half_size_still(runner, video.path, still, select=f"select=eq(n\\,{frame})")
            print(f"{still}: {still.stat().st_size / 1e3:.0f} KB (frame {frame}, on a beat)")


if __name__ == "__main__":
    run_stills(main)
