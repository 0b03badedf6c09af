"""What each look costs (issue 18 item 3, docs/architecture.md §9.3): a 720x1280 render of a
generated 128 BPM track (kicks, hats, bass, pads) with the sweep's dense karaoke, in `calm` (a
still cover over the waveform), `pulse` (the cover on the beats, from the track's own analysis)
and `bars` (the same pulse over spectrum bars).

Each look renders `rounds` times, alternating, and the medians of wall time and of ffmpeg's CPU
time (user + system of the finished children, steadier than wall time on a shared machine) are
compared with calm's. Run:
    python -m bench.look_cost [seconds] [rounds]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

from bench.karaoke_cost import dense_lyrics_ass
from bench.render_speed import _inputs
from bench.render_variants import bench_spec, cost_line, render_rounds
from bot.domain import Look
from bot.engine.track_analyses import motion_of
from bot.music.track import analyse_track
from bot.rendering import Renderer, RenderSpec, Visualisation
from tests.music.tracks import beat_track


async def main(duration: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, cover = _inputs(folder, 1.0)
        renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
        wav = beat_track(128.0, duration).write(folder / "beats.wav")
        audio = folder / "beats.m4a"
        encode = ["-y", "-i", str(wav), "-c:a", "aac", "-b:a", "192k", str(audio)]
        await renderer.ffmpeg.run(encode, time_limit=600)
        pulse = motion_of(await analyse_track(renderer.ffmpeg, audio))
        assert pulse is not None, "the bench track's beats must be trusted"
        document, _ = dense_lyrics_ass(duration)
        subtitles = folder / "sweep.ass"
        subtitles.write_text(document, encoding="utf-8")
        print(f"track: {duration:.0f} s at 720x1280, {rounds} rounds; load {os.getloadavg()}")
        looks = (Look.CALM, Look.PULSE, Look.BARS)

        def spec_of(look: Look) -> RenderSpec:
            return bench_spec(
                audio,
                cover,
                subtitles,
                motion=None if look is Look.CALM else pulse,
                visualisation=Visualisation.BARS if look is Look.BARS else Visualisation.WAVES,
            )

        measured = await render_rounds(
            renderer, folder, looks, spec_of, rounds=rounds, name_of=lambda look: look.value
        )
        for look in looks:
            print(cost_line(measured, look, look.value, duration, {"calm": Look.CALM}))
        print(f"load afterwards {os.getloadavg()}")


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    asyncio.run(main(seconds, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
