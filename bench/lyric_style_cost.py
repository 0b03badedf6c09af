"""What each lyric style costs (issue 18 item 4): a 720x1280 render without lyrics, with the
sweep and with pop (one ASS event per word state, docs/architecture.md §9.2).

The lyrics are karaoke_cost's dense generated timeline (a word every 0.4 s). Each variant renders
`rounds` times, alternating, and the medians of wall time and of ffmpeg's CPU time (user + system
of the finished children, steadier than wall time on a shared machine) are compared. Run:
    python -m bench.lyric_style_cost [seconds] [rounds]
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from bench.karaoke_cost import dense_lyrics_ass
from bench.render_speed import _inputs
from bot.domain import LyricStyle
from bot.rendering import Renderer, RenderSpec, VideoFormat

VARIANTS = ("none", LyricStyle.SWEEP.value, LyricStyle.POP.value)


async def main(duration: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        audio, cover = _inputs(folder, duration)
        subtitles: dict[str, Path | None] = {"none": None}
        for style in LyricStyle:
            document, words = dense_lyrics_ass(duration, style)
            path = folder / f"{style.value}.ass"
            path.write_text(document, encoding="utf-8")
            subtitles[style.value] = path
            print(f"{style.value}: {words} words, {document.count('Dialogue:')} events")
        renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
        print(f"track: {duration:.0f} s at 720x1280, {rounds} rounds")
        times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        cpu: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        sizes: dict[str, int] = {}
        for round_ in range(rounds):
            for variant in VARIANTS:
                started, cpu_before = time.monotonic(), _children_cpu()
                video = await renderer.render(
                    RenderSpec(
                        audio=audio,
                        cover=cover,
                        title="Midnight Drive",
                        author="DJ Bench",
                        video_format=VideoFormat.VERTICAL,
                        subtitles=subtitles[variant],
                    ),
                    workdir=folder / f"out-{round_}-{variant}",
                )
                times[variant].append(time.monotonic() - started)
                cpu[variant].append(_children_cpu() - cpu_before)
                sizes[variant] = video.path.stat().st_size
                video.path.unlink()
        medians = {variant: statistics.median(times[variant]) for variant in VARIANTS}
        cpus = {variant: statistics.median(cpu[variant]) for variant in VARIANTS}
        for variant in VARIANTS:
            median, used = medians[variant], cpus[variant]
            print(
                f"{variant:>5}: {median:5.2f} s = {duration / median:4.1f}x real time,"
                f" {sizes[variant] / 1e6:4.1f} MB (runs: {_runs(times[variant])});"
                f" vs none {_percent(median, medians['none'])},"
                f" vs sweep {_percent(median, medians['sweep'])};"
                f" CPU {used:5.2f} s, vs none {_percent(used, cpus['none'])},"
                f" vs sweep {_percent(used, cpus['sweep'])}"
            )


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: the ffmpeg runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _percent(value: float, base: float) -> str:
    return f"{100.0 * (value - base) / base:+.1f} %"


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    asyncio.run(main(seconds, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
