"""Shared scaffolding of the render-cost benches (look_cost, lyric_style_cost, karaoke_cost):
the bench's 720x1280 render spec, rendering variants in alternating rounds, and the medians of
wall time and of ffmpeg's CPU time (user + system of the finished children, steadier than wall
time on a shared machine).
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import imageio_ffmpeg

from bot.rendering import Renderer, RenderSpec, VideoFormat

Variant = TypeVar("Variant")


def bench_spec(audio: Path, cover: Path, subtitles: Path | None, **extra: Any) -> RenderSpec:
    """The benches' vertical render of "Midnight Drive" by "DJ Bench"; `extra` adds spec fields."""
    return RenderSpec(
        audio=audio,
        cover=cover,
        title="Midnight Drive",
        author="DJ Bench",
        video_format=VideoFormat.VERTICAL,
        subtitles=subtitles,
        **extra,
    )


@dataclass
class Measured(Generic[Variant]):
    """Per variant: wall seconds and ffmpeg CPU seconds of each round, and the last video's size."""

    times: dict[Variant, list[float]] = field(default_factory=dict)
    cpu: dict[Variant, list[float]] = field(default_factory=dict)
    sizes: dict[Variant, int] = field(default_factory=dict)

    def median(self, variant: Variant) -> float:
        return statistics.median(self.times[variant])

    def median_cpu(self, variant: Variant) -> float:
        return statistics.median(self.cpu[variant])


async def render_rounds(
    renderer: Renderer,
    folder: Path,
    variants: Sequence[Variant],
    spec_of: Callable[[Variant], RenderSpec],
    *,
    rounds: int,
    name_of: Callable[[Variant], str] = str,
) -> Measured[Variant]:
    """Render each variant `rounds` times, alternating, into `folder`/out-ROUND-NAME; measure."""
    measured: Measured[Variant] = Measured(
        times={variant: [] for variant in variants},
        cpu={variant: [] for variant in variants},
    )
    for round_ in range(rounds):
        for variant in variants:
            started, cpu_before = time.monotonic(), children_cpu()
            video = await renderer.render(
                spec_of(variant), workdir=folder / f"out-{round_}-{name_of(variant)}"
            )
            measured.times[variant].append(time.monotonic() - started)
            measured.cpu[variant].append(children_cpu() - cpu_before)
            measured.sizes[variant] = video.path.stat().st_size
            video.path.unlink()
    return measured


async def compare_subtitles(
    folder: Path,
    audio: Path,
    cover: Path,
    subtitles: dict[str, Path | None],
    *,
    duration: float,
    rounds: int,
    bases: dict[str, str],
) -> None:
    """Render the same 720x1280 track with each subtitle file (None: no lyrics), alternating,
    and print each one's cost line against `bases` (name → variant)."""
    renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
    print(f"track: {duration:.0f} s at 720x1280, {rounds} rounds")
    variants = list(subtitles)
    measured = await render_rounds(
        renderer,
        folder,
        variants,
        lambda variant: bench_spec(audio, cover, subtitles[variant]),
        rounds=rounds,
    )
    for variant in variants:
        print(cost_line(measured, variant, variant, duration, bases))


def cost_line(
    measured: Measured[Variant],
    variant: Variant,
    label: str,
    duration: float,
    bases: dict[str, Variant],
) -> str:
    """One variant's medians of wall and CPU time, its size and runs, compared with each base."""
    median, used = measured.median(variant), measured.median_cpu(variant)
    vs_wall = ", ".join(
        f"vs {name} {percent(median, measured.median(base))}" for name, base in bases.items()
    )
    vs_cpu = ", ".join(
        f"vs {name} {percent(used, measured.median_cpu(base))}" for name, base in bases.items()
    )
    return (
        f"{label:>5}: {median:5.2f} s = {duration / median:4.1f}x real time,"
        f" {measured.sizes[variant] / 1e6:4.1f} MB (runs: {runs(measured.times[variant])});"
        f" {vs_wall}; CPU {used:5.2f} s, {vs_cpu}"
    )


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: the ffmpeg runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percent(value: float, base: float) -> str:
    return f"{100.0 * (value - base) / base:+.1f} %"


def runs(values: list[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)
