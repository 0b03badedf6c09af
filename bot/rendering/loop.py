"""Renders a Canvas loop (issue 20): a cover and its track's beats in, a silent 720x1280 H.264
MP4 out, 3-8 s, no text at all (docs/architecture.md §10.3).

One ffmpeg child through the runner (its own process group, killed on cancel or time-out; the
event loop never waits on it). The graph: the blurred, darkened cover fills the frame with the
resting cover on top, composed once and repeated; each other cover size the loop shows
(loop_plan.py) is scaled once and overlaid only on its frames (the `enable` expression of the
video's beat motion, filtergraph.py). Must not import Telegram, storage or the job engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.rendering.errors import BadInput, OutputTooLarge
from bot.rendering.filtergraph import BLUR_SIGMA, GRAPH_INLINE_MAX, enable_expression
from bot.rendering.loop_plan import (
    FPS,
    HEIGHT,
    MAX_SIDE,
    REST_SIDE,
    WIDTH,
    LoopTiming,
    cover_box,
    frame_sides,
    frames_by_side,
    loop_timing,
)
from bot.rendering.motion import frame_runs
from bot.rendering.probe import probe
from bot.rendering.runner import Ffmpeg, ProgressCallback

LOOP_MAX_BYTES = 25_000_000  # Spotify's limit for a Canvas
LOOP_CRF = 18  # a few seconds of a still-ish picture: quality is cheap here
LOOP_MAXRATE_KBPS = 8000  # 8 s at most, 2 s of buffer: ≤ about 10 MB, far under the limit
LOOP_PRESET = "medium"
TIME_LIMIT_SECONDS = 120.0


class Beats(Protocol):
    """What the loop needs of a track's analysis (bot.music.track.TrackAnalysis has it)."""

    @property
    def beats(self) -> tuple[float, ...]: ...

    @property
    def downbeats(self) -> tuple[float, ...]: ...

    @property
    def pulse(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class RenderedLoop:
    """The finished loop, its timing and the facts probed from the file."""

    path: Path
    timing: LoopTiming
    width: int
    height: int
    duration: float
    size: int
    has_audio: bool


def plan_loop(analysis: Beats | None, window_start: float) -> LoopTiming:
    """The loop's timing from a track's analysis (None: no analysis, the forward-back loop)."""
    if analysis is None:
        return loop_timing((), (), False, window_start)
    return loop_timing(analysis.beats, analysis.downbeats, analysis.pulse, window_start)


def build_loop_graph(sides: Sequence[int]) -> str:
    """The -filter_complex text for a loop whose cover has these sides frame by frame; output
    [vout]."""
    rest = cover_box(REST_SIDE)
    shown = frames_by_side(sides)
    names = [f"[s{index}]" for index in range(len(shown))]
    chains = [
        "[0:v]setsar=1,format=rgb24,split[fill][art]",
        f"[fill]scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=increase,"
        f"crop={WIDTH}:{HEIGHT},gblur=sigma={BLUR_SIGMA},drawbox=c=black@0.45:t=fill[bg]",
        f"[art]scale={MAX_SIDE}:{MAX_SIDE}:force_original_aspect_ratio=increase,"
        f"crop={MAX_SIDE}:{MAX_SIDE},split={len(shown) + 1}[rest]{''.join(names)}",
        f"[rest]scale={REST_SIDE}:{REST_SIDE}[sharprest]",
        f"[bg][sharprest]overlay={rest.x}:{rest.y},format=yuv420p,"
        f"loop=loop=-1:size=1:start=0,settb=1/{FPS},setpts=N[still]",
    ]
    label = "still"
    for index, (side, frames) in enumerate(shown.items()):
        box = cover_box(side)
        chains.append(f"[s{index}]scale={side}:{side},format=yuv420p,setsar=1[c{index}]")
        chains.append(
            f"[{label}][c{index}]overlay={box.x}:{box.y}:format=yuv420"
            f":enable='{enable_expression(frame_runs(frames))}'[m{index}]"
        )
        label = f"m{index}"
    chains.append(f"[{label}]format=yuv420p[vout]")
    return ";".join(chains)


def build_loop_args(cover: Path, output: Path, frames: int, graph: str | Path) -> list[str]:
    """ffmpeg arguments (after the binary): the loop's `frames` frames, no audio, no metadata."""
    graph_args = (
        ("-/filter_complex", str(graph)) if isinstance(graph, Path) else ("-filter_complex", graph)
    )
    return [
        *("-y", "-loglevel", "error", "-i", str(cover), *graph_args, "-map", "[vout]"),
        *("-an", "-sn", "-dn", "-map_metadata", "-1", "-frames:v", str(frames)),
        *("-c:v", "libx264", "-preset", LOOP_PRESET, "-tune", "stillimage"),
        *("-crf", str(LOOP_CRF), "-maxrate", f"{LOOP_MAXRATE_KBPS}k"),
        *("-bufsize", f"{2 * LOOP_MAXRATE_KBPS}k", "-g", str(frames)),
        *("-profile:v", "high", "-pix_fmt", "yuv420p", "-r", str(FPS)),
        *("-movflags", "+faststart", "-f", "mp4", str(output)),
    ]


def _noop(_: float) -> None:
    return None


async def render_loop(
    ffmpeg: Ffmpeg,
    cover: Path,
    timing: LoopTiming,
    output: Path,
    *,
    on_progress: ProgressCallback = _noop,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> RenderedLoop:
    """Render the loop `timing` describes over `cover` into `output` (removed on failure)."""
    # Absolute paths: ffmpeg must never read a path as an option or protocol.
    cover, output = await asyncio.to_thread(lambda: (cover.resolve(), output.resolve()))
    graph = build_loop_graph(frame_sides(timing))
    graph_file = output.with_name(output.name + ".graph.txt")
    source: str | Path = graph
    try:
        if len(graph) > GRAPH_INLINE_MAX:
            await asyncio.to_thread(graph_file.write_text, graph, encoding="utf-8")
            source = graph_file
        await ffmpeg.run(
            build_loop_args(cover, output, timing.frames, source),
            time_limit=time_limit,
            progress=(timing.duration, on_progress),
        )
        return await _finish(ffmpeg, output, timing)
    except BaseException:
        await asyncio.to_thread(_remove, output)
        raise
    finally:
        await asyncio.to_thread(_remove, graph_file)


async def _finish(ffmpeg: Ffmpeg, output: Path, timing: LoopTiming) -> RenderedLoop:
    info = await probe(ffmpeg, output)
    video = info.video
    if video is None or video.width is None or video.height is None or not info.duration:
        raise BadInput("the rendered loop has no video stream")
    size = (await asyncio.to_thread(output.stat)).st_size
    if size > LOOP_MAX_BYTES:
        raise OutputTooLarge(size, LOOP_MAX_BYTES)
    return RenderedLoop(
        path=output,
        timing=timing,
        width=video.width,
        height=video.height,
        duration=info.duration,
        size=size,
        has_audio=info.audio is not None,
    )


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
