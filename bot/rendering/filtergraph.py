"""Builds the ffmpeg command line of one render: filter graph, encoder and muxer flags; no I/O.

Inputs: 0 = the cover image, 1 = the audio. The still layers (blurred fill, sharp cover,
texts) are composed once and repeated with `loop`, so per frame only the visualisation, the
optional subtitles and the encoder run — and, with beat motion, the overlay of one of the
cover's pre-scaled pulse levels on the frames just after a beat (motion.py, docs/architecture.md
§8.9). User text never enters the graph: drawtext reads it from files (`textfile=`,
`expansion=none`), and every path is escaped (filter_syntax).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.rendering.budget import Bitrates
from bot.rendering.filter_syntax import filter_value
from bot.rendering.formats import VideoFormat
from bot.rendering.layout import LAYOUTS, Box, TextSlot
from bot.rendering.motion import Motion, cover_sizes, frame_runs, level_frames
from bot.rendering.palette import Palette
from bot.rendering.section_looks import look_frames

FPS = 25
X264_PRESET = "veryfast"  # goal ≥ 4x real time at 720x1280 on 2 cores (docs/architecture.md §8.1)
X264_CRF = 23
BLUR_SIGMA = 30
# A graph longer than this goes to a file (`-/filter_complex`): a pulse's frame list grows with
# the track, and Linux refuses a single argument over 128 KiB.
GRAPH_INLINE_MAX = 32_000
# Spectrum bars (the `bars` look, docs/architecture.md §9.3): showfreqs draws BAR_COUNT columns
# small, scaled up without smoothing to BAR_PITCH px each, with a transparent BAR_GAP between.
BAR_PITCH = 18
BAR_GAP = 5
BARS_HZ = 11025  # the bars show up to half this: where most of a song's energy is


class Visualisation(StrEnum):
    """What moves with the sound in the visualisation box."""

    WAVES = "waves"  # the waveform (showwaves)
    BARS = "bars"  # spectrum bars (showfreqs)


@dataclass(frozen=True, slots=True)
class TextLayer:
    """A line drawn from a UTF-8 file (already cleaned and fitted) in a font family."""

    file: Path
    family: str
    size: int


@dataclass(frozen=True, slots=True)
class Clip:
    """Part of the track (teaser): start and length in seconds, fade in/out length."""

    start: float
    duration: float
    fade: float = 0.0


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """Everything the command line needs, with every path and size already decided."""

    audio: Path
    cover: Path
    output: Path
    video_format: VideoFormat
    duration: float  # of the output
    bitrates: Bitrates
    palette: Palette
    title: TextLayer | None
    author: TextLayer | None
    domain: TextLayer | None
    subtitles: Path | None = None
    clip: Clip | None = None
    preset: str = X264_PRESET
    title_second: TextLayer | None = None  # a wrapped title's second line (9:16)
    motion: Motion | None = None  # the cover pulses on these beats; None: a still cover
    graph_file: Path | None = None  # the filter graph is read from this file (a long one)
    visualisation: Visualisation = Visualisation.WAVES


def _drawtext(layer: TextLayer, y: int, color: str, x: str) -> str:
    return (
        f"drawtext=font={filter_value(layer.family)}:textfile={filter_value(str(layer.file))}"
        f":expansion=none:fontsize={layer.size}:fontcolor={color}:x={x}:y={y}"
        ":shadowcolor=black@0.6:shadowx=2:shadowy=2"
    )


def _x(slot: TextSlot) -> str:
    if slot.x is not None:
        return str(slot.x)
    if slot.centre is not None:
        return f"{slot.centre}-text_w/2"
    return "(w-text_w)/2"


def _text_filters(plan: RenderPlan) -> list[str]:
    layout = LAYOUTS[plan.video_format]
    accent = Palette.hex(plan.palette.accent)
    filters = []
    for layer, slot, line, color in (
        (plan.title, layout.title, 0, "white"),
        (plan.title_second, layout.title, 1, "white"),
        (plan.author, layout.author, 0, accent),
    ):
        if layer is not None:
            filters.append(_drawtext(layer, slot.line_y(line, layer.size), color, _x(slot)))
    if plan.domain is not None:
        slot = layout.domain
        x = _x(slot)
        if layout.domain_right_aligned and slot.x is not None:
            x = f"w-text_w-{plan.video_format.width - slot.x - slot.max_width}"
        filters.append(_drawtext(plan.domain, slot.y, "white@0.75", x))
    return filters


def _pulses(plan: RenderPlan) -> list[tuple[Box, list[tuple[int, int]]]]:
    """Each pulse level's box and the runs of frames showing it (levels never shown left out)."""
    if plan.motion is None:
        return []
    frames = max(1, round(plan.duration * FPS))
    _, boxes = cover_sizes(LAYOUTS[plan.video_format].cover)
    shown = level_frames(plan.motion, frames, FPS)
    return [(box, frame_runs(level)) for box, level in zip(boxes, shown, strict=True) if level]


ENABLE_LEAF_RUNS = 4  # an `enable` expression tests at most this many runs of frames per frame


def enable_expression(runs: list[tuple[int, int]]) -> str:
    """An expression true on the runs' frames: a binary search over them by the frame number, so
    a frame evaluates O(log runs) terms and the nesting stays shallow (ffmpeg's expression parser
    refuses a flat sum of about 100 terms)."""
    if len(runs) <= ENABLE_LEAF_RUNS:
        return "+".join(f"eq(n,{a})" if a == b else f"between(n,{a},{b})" for a, b in runs)
    middle = len(runs) // 2
    left, right = enable_expression(runs[:middle]), enable_expression(runs[middle:])
    return f"if(lt(n,{runs[middle][0]}),{left},{right})"


def _still_chain(plan: RenderPlan, pulses: list[tuple[Box, list[tuple[int, int]]]]) -> str:
    width, height = plan.video_format.size
    cover = LAYOUTS[plan.video_format].cover
    resting = cover_sizes(cover)[0] if pulses else cover
    fill = (
        f"[fill]scale={width}:{height}:force_original_aspect_ratio=increase,"
        f"crop={width}:{height},gblur=sigma={BLUR_SIGMA},"
        f"drawbox=c=black@0.45:t=fill[bg]"
    )
    art = (
        f"[art]scale={cover.width}:{cover.height}:force_original_aspect_ratio=increase,"
        f"crop={cover.width}:{cover.height}[sharp]"
    )
    levels = []
    if pulses:
        # One scale per level, once: the frames only switch between these (motion.py).
        names = "".join(f"[lv{index}]" for index in range(len(pulses)))
        levels.append(f"[sharp]split={len(pulses) + 1}[rest]{names}")
        levels.append(f"[rest]scale={resting.width}:{resting.height}[sharprest]")
        levels.extend(
            f"[lv{index}]scale={box.width}:{box.height},format=yuv420p,setsar=1[pulse{index}]"
            for index, (box, _) in enumerate(pulses)
        )
    still = ",".join(
        [
            f"[bg][{'sharprest' if pulses else 'sharp'}]overlay={resting.x}:{resting.y}",
            *_text_filters(plan),
            "format=yuv420p",
            "loop=loop=-1:size=1:start=0",
            f"settb=1/{FPS}",
            "setpts=N",
        ]
    )
    return ";".join(
        ["[0:v]setsar=1,format=rgb24,split[fill][art]", fill, art, *levels, f"{still}[still]"]
    )


def _pulse_chain(pulses: list[tuple[Box, list[tuple[int, int]]]]) -> tuple[list[str], str]:
    """Overlays of the pulse levels on the still, each on its own frames; the last label."""
    chain, label = [], "still"
    for index, (box, runs) in enumerate(pulses):
        chain.append(
            f"[{label}][pulse{index}]overlay={box.x}:{box.y}:format=yuv420"
            f":enable='{enable_expression(runs)}'[moving{index}]"
        )
        label = f"moving{index}"
    return chain, label


def _look_chain(plan: RenderPlan, label: str) -> tuple[list[str], str]:
    """Each section look's `eq` on its frames (section_looks.py), after the cover's pulse and
    before the waveform and the lyrics; the last label."""
    frames = max(1, round(plan.duration * FPS))
    sections = plan.motion.sections if plan.motion is not None else ()
    looks = look_frames(sections, frames, FPS)
    if not looks:
        return [], label
    chain = ",".join(f"{look.filter}:enable='{enable_expression(runs)}'" for look, runs in looks)
    return [f"[{label}]{chain}[looked]"], "looked"


def _audio_chain(plan: RenderPlan) -> str:
    vis = LAYOUTS[plan.video_format].visualisation
    colors = "|".join([Palette.hex(plan.palette.accent)] * 2)
    fades = _fades(plan, "afade")
    split = f"[1:a]aformat=channel_layouts=stereo,{fades}asplit[aout][awave]"
    if plan.visualisation is Visualisation.BARS:
        return f"{split};{_bars(vis, Palette.hex(plan.palette.accent))}"
    return (
        f"{split};[awave]showwaves=s={vis.width}x{vis.height}:mode=cline:rate={FPS}"
        f":scale=sqrt:draw=full:colors={colors},format=rgba[waves]"
    )


def _bars(vis: Box, color: str) -> str:
    """Spectrum bars filling `vis`: one narrow showfreqs frame per video frame (mono, up to
    BARS_HZ / 2 on a log scale, cube-root amplitudes, two frames averaged), widened by pixel
    repetition, gaps cut transparent."""
    count = -(-vis.width // BAR_PITCH)
    return (
        f"[awave]aformat=channel_layouts=mono,aresample={BARS_HZ},"
        f"showfreqs=s={count}x{vis.height}:rate={FPS}"
        f":mode=bar:ascale=cbrt:fscale=log:win_size=1024:averaging=2:colors={color},"
        f"scale={count * BAR_PITCH}:{vis.height}:flags=neighbor,format=rgba,"
        f"drawgrid=w={BAR_PITCH}:h=ih+{BAR_GAP}:t={BAR_GAP}:c=black@0:replace=1,"
        f"crop={vis.width}:{vis.height}:0:0[waves]"
    )


def _fades(plan: RenderPlan, name: str) -> str:
    if plan.clip is None or plan.clip.fade <= 0:
        return ""
    fade, length = plan.clip.fade, plan.duration
    return (
        f"{name}=t=in:st=0:d={fade:.3f},{name}=t=out:st={max(length - fade, 0):.3f}:d={fade:.3f},"
    )


def build_filter_graph(plan: RenderPlan) -> str:
    """The -filter_complex text; its outputs are [vout] and [aout]."""
    vis = LAYOUTS[plan.video_format].visualisation
    pulses = _pulses(plan)
    moving, label = _pulse_chain(pulses)
    looks, label = _look_chain(plan, label)
    video = f"[{label}][waves]overlay={vis.x}:{vis.y}:format=yuv420:eof_action=repeat"
    if plan.subtitles is not None:
        # Hook for karaoke lyrics: an ASS file burned in on top of everything else.
        video += f",ass=filename={filter_value(str(plan.subtitles))}"
    video += f",{_fades(plan, 'fade')}format=yuv420p[vout]"
    return ";".join([_still_chain(plan, pulses), *moving, *looks, _audio_chain(plan), video])


def build_args(plan: RenderPlan) -> list[str]:
    """ffmpeg arguments (after the binary) that render `plan` into `plan.output`."""
    audio_input = ["-i", str(plan.audio)]
    if plan.clip is not None:
        audio_input = ["-ss", f"{plan.clip.start:.3f}", "-t", f"{plan.duration:.3f}", *audio_input]
    rates = plan.bitrates
    graph = (
        ("-/filter_complex", str(plan.graph_file))
        if plan.graph_file is not None
        else ("-filter_complex", build_filter_graph(plan))
    )
    return [
        *("-y", "-loglevel", "error", "-i", str(plan.cover), *audio_input),
        *(*graph, "-map", "[vout]", "-map", "[aout]"),
        *("-c:v", "libx264", "-preset", plan.preset, "-tune", "stillimage"),
        *("-crf", str(X264_CRF), "-maxrate", f"{rates.video_kbps}k"),
        *("-bufsize", f"{rates.bufsize_kbits}k", "-pix_fmt", "yuv420p", "-r", str(FPS)),
        *("-c:a", "aac", "-b:a", f"{rates.audio_kbps}k"),
        *("-t", f"{plan.duration:.3f}", "-movflags", "+faststart", "-f", "mp4"),
        str(plan.output),
    ]
