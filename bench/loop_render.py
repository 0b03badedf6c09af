"""What a Canvas loop costs (issue 20): wall and CPU time for the loop of a 3-minute track.

Generates a track with kicks on the beats, off-beat hats, bass and pads (tests/music/tracks.py)
at 128 BPM, encodes it as MP3 like a provider's track, and a detailed 1024x1024 cover. Then, as
the bot would for a track without timestamped lyrics, `rounds` times:

1. analysis: `analyse_track` (ffmpeg decode + numpy) — done once per track and stored, so a
   later loop of the same track skips it;
2. window: the teaser's window from the audio's own loudness (`loudness_levels`, one ffmpeg
   pass over the track) — skipped too when the lyrics name the chorus;
3. loop: `plan_loop` and `render_loop` (one ffmpeg child), then the seam measured on the file;
4. live: the live photo from that loop (`mux_hook_audio`: the loop's frames copied with the
   hook's AAC audio; `still_frame`: its first frame as the still) — only for a live photo.

Prints the median wall time and CPU (this process + its ffmpeg children) of each step, the
totals with and without the analysis and window, the loop's size and seam, and the load average
(the machine is shared). Usage:
    .venv/bin/python -m bench.loop_render [seconds] [rounds]   (default 180 s, 3 rounds)
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import imageio_ffmpeg
import numpy as np

from bot.lyrics.chorus import Loudness, teaser_window
from bot.music.track import analyse_track
from bot.rendering.live_photo import mux_hook_audio, still_frame
from bot.rendering.loop import RenderedLoop, plan_loop, render_loop
from bot.rendering.loudness import STEP_SECONDS, loudness_levels
from bot.rendering.runner import Ffmpeg
from tests.music.tracks import beat_track

T = TypeVar("T")
GOAL = "goal: none set (issue 20: report it); ≤ 25 MB, seam ≤ 1 %"


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


async def _timed(step: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    cpu, wall = _cpu(), time.monotonic()
    value = await step()
    return value, time.monotonic() - wall, _cpu() - cpu


async def _seam(ffmpeg: Ffmpeg, loop: RenderedLoop) -> float:
    """Mean absolute difference of the first and last decoded grey frames, 0..1."""
    last = loop.timing.frames - 1
    done = await ffmpeg.run(
        [
            *("-i", str(loop.path), "-vf", f"select='eq(n,0)+eq(n,{last})'"),
            *("-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"),
        ],
        time_limit=60,
    )
    first, final = np.frombuffer(done.stdout, np.uint8).reshape(2, -1).astype(np.float64)
    return float(np.abs(first - final).mean() / 255)


async def main(seconds: float, rounds: int) -> None:
    binary = Path(imageio_ffmpeg.get_ffmpeg_exe())
    ffmpeg = Ffmpeg(binary)  # niced, as the bot runs it
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = beat_track(128, seconds).write(folder / "track.wav")
        mp3, cover = folder / "track.mp3", folder / "cover.png"
        await ffmpeg.run(["-v", "error", "-i", str(wav), "-b:a", "192k", str(mp3)], time_limit=120)
        await ffmpeg.run(
            [
                *("-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1024x1024"),
                *("-frames:v", "1", str(cover)),
            ],
            time_limit=60,
        )
        steps: dict[str, list[tuple[float, float]]] = {"analysis": [], "window": [], "loop": []}
        lives: list[tuple[float, float]] = []
        live_size = 0
        loop: RenderedLoop | None = None
        for round_ in range(rounds):
            analysis, wall, cpu = await _timed(functools.partial(analyse_track, ffmpeg, mp3))
            steps["analysis"].append((wall, cpu))
            levels, wall, cpu = await _timed(functools.partial(loudness_levels, ffmpeg, mp3))
            steps["window"].append((wall, cpu))
            window = teaser_window(analysis.duration, None, Loudness(levels, STEP_SECONDS))
            timing = plan_loop(analysis, window.start)
            output = folder / f"loop-{round_}.mp4"
            render = functools.partial(render_loop, ffmpeg, cover, timing, output)
            loop, wall, cpu = await _timed(render)
            steps["loop"].append((wall, cpu))
            made = loop

            async def live(made: RenderedLoop = made, index: int = round_) -> int:
                live_video = folder / f"live-{index}.mp4"
                size = await mux_hook_audio(ffmpeg, made.path, mp3, made.timing, live_video)
                await still_frame(ffmpeg, made.path, folder / f"still-{index}.jpg")
                return size

            live_size, wall, cpu = await _timed(live)
            lives.append((wall, cpu))
        assert loop is not None
        seam = await _seam(ffmpeg, loop)
        timing = loop.timing
        print(
            f"track: {seconds:.0f} s MP3 at 128 BPM; window from {window.start:.1f} s; loop "
            f"{timing.mode} from {timing.start:.2f} s, {timing.beats} beats, "
            f"{timing.frames} frames, {loop.duration:.2f} s"
        )
        median = {
            name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for name, runs in steps.items()
        }
        for name, (wall, cpu) in median.items():
            print(f"{name:>8}: {wall:5.2f} s wall, {cpu:5.2f} s CPU (median of {rounds})")
        loop_wall, loop_cpu = median["loop"]
        all_wall = sum(w for w, _ in median.values())
        all_cpu = sum(c for _, c in median.values())
        print(
            f"loop only (analysis stored, chorus known): {loop_wall:.2f} s wall, "
            f"{loop_cpu:.2f} s CPU"
        )
        print(f"with analysis and window: {all_wall:.2f} s wall, {all_cpu:.2f} s CPU")
        live_wall = statistics.median(w for w, _ in lives)
        live_cpu = statistics.median(c for _, c in lives)
        print(
            f"live photo on top of the loop: {live_wall:.2f} s wall, {live_cpu:.2f} s CPU; "
            f"its video {live_size / 1e6:.2f} MB (≤ 10 MB)"
        )
        print(
            f"loop file: {loop.size / 1e6:.2f} MB, {loop.width}x{loop.height}, "
            f"audio: {'yes' if loop.has_audio else 'none'}, seam {seam:.3%} ({GOAL})"
        )
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.loop_render")
    parser.add_argument("seconds", nargs="?", type=float, default=180.0)
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.seconds, options.rounds))
