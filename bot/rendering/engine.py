"""The renderer's entry point: RenderSpec in, RenderedVideo out (one ffmpeg child per step).

Narrow on purpose (files and texts in, a file and its probed facts out) so rendering can move
to worker processes later. Must not import Telegram, storage or the job engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bot.rendering.budget import DEFAULT_MAX_BYTES, plan_bitrates
from bot.rendering.cover_art import generate_cover, scale_cover
from bot.rendering.errors import BadInput, FfmpegFailed, OutputTooLarge
from bot.rendering.filtergraph import (
    GRAPH_INLINE_MAX,
    Clip,
    RenderPlan,
    TextLayer,
    Visualisation,
    build_args,
    build_filter_graph,
)
from bot.rendering.fonts import FontReport, detect_fonts
from bot.rendering.formats import VideoFormat
from bot.rendering.layout import LAYOUTS, TextSlot, clean_text, fit_lines
from bot.rendering.motion import Motion
from bot.rendering.palette import Palette, cover_palette
from bot.rendering.probe import MediaInfo, probe
from bot.rendering.runner import Ffmpeg, ProgressCallback
from bot.rendering.thumbnail import make_thumbnail

log = logging.getLogger(__name__)

OUTPUT_NAME = "video.mp4"
THUMBNAIL_NAME = "thumbnail.jpg"
GENERATED_COVER_NAME = "generated-cover.png"
SCALED_COVER_NAME = "scaled-cover.png"
# A cover larger than this on either side is scaled down (to SCALED_COVER_SIDE) before the
# render reads it; one over MAX_COVER_PIXELS is not decoded at all: the generated background
# stands in (a small PNG can claim a huge picture). docs/architecture.md §8.1.
MAX_COVER_SIDE = 4096
SCALED_COVER_SIDE = 2048
MAX_COVER_PIXELS = 40_000_000


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """What to render. Paths are local files; texts are raw user text (escaped here)."""

    audio: Path
    title: str
    video_format: VideoFormat = VideoFormat.VERTICAL
    cover: Path | None = None
    author: str | None = None
    domain: str | None = None
    subtitles: Path | None = None  # an ASS file burned in on top (karaoke lyrics)
    clip: Clip | None = None  # part of the track (teaser); None = all of it
    max_bytes: int = DEFAULT_MAX_BYTES
    # The cover pulses on these beats, times from the track's start (a clip shifts them here);
    # None: a still cover (docs/architecture.md §8.9).
    motion: Motion | None = None
    # The waveform or spectrum bars under the cover (the chat's look, docs/architecture.md §9.3).
    visualisation: Visualisation = Visualisation.WAVES


@dataclass(frozen=True, slots=True)
class RenderedVideo:
    """The finished MP4 and the facts Telegram's sendVideo wants, probed from the file."""

    path: Path
    width: int
    height: int
    duration: float
    size: int
    thumbnail: Path
    cover: Path  # the image used (the given cover or a generated one), for sendVideo's cover


def _noop(_: float) -> None:
    return None


class Renderer:
    """Renders specs with one ffmpeg binary and the fonts found at start."""

    def __init__(
        self,
        ffmpeg: Ffmpeg,
        fonts: FontReport,
        *,
        time_limit_base: float = 120.0,
        time_limit_per_second: float = 1.5,
    ) -> None:
        self._ffmpeg = Ffmpeg(ffmpeg.binary, {**ffmpeg.env, **fonts.env}, ffmpeg.niceness)
        self._fonts = fonts
        self._limit_base = time_limit_base
        self._limit_per_second = time_limit_per_second

    @classmethod
    async def start(cls, binary: Path, state_dir: Path, **limits: float) -> Renderer:
        """Detect fonts (logging a warning for scripts that would show as boxes)."""
        ffmpeg = Ffmpeg(binary)
        fonts = await detect_fonts(ffmpeg, state_dir / "fontconfig")
        if fonts.warning:
            log.warning("rendering: %s", fonts.warning)
        return cls(ffmpeg, fonts, **limits)

    @property
    def ffmpeg(self) -> Ffmpeg:
        """The ffmpeg this renderer runs (with the fontconfig environment)."""
        return self._ffmpeg

    @property
    def fonts(self) -> FontReport:
        """The fonts found at start."""
        return self._fonts

    def time_limit(self, duration: float) -> float:
        """Seconds an encode of `duration` seconds may take before it is killed."""
        return self._limit_base + self._limit_per_second * duration

    async def render(
        self, spec: RenderSpec, *, workdir: Path, on_progress: ProgressCallback = _noop
    ) -> RenderedVideo:
        """Render `spec` into `workdir`; temporary files go, the outputs stay on success only."""
        spec, workdir, scratch = await asyncio.to_thread(_prepare, spec, workdir)
        names = (OUTPUT_NAME, THUMBNAIL_NAME, GENERATED_COVER_NAME, SCALED_COVER_NAME)
        outputs = [workdir / name for name in names]
        try:
            video = await self._render(spec, workdir, scratch, on_progress)
        except BaseException:
            await asyncio.to_thread(_remove, outputs)
            raise
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return video

    async def _render(
        self, spec: RenderSpec, workdir: Path, scratch: Path, on_progress: ProgressCallback
    ) -> RenderedVideo:
        audio = await probe(self._ffmpeg, spec.audio)
        duration = _output_duration(audio, spec.clip)
        bitrates = plan_bitrates(duration, spec.max_bytes)
        cover, palette = await self._cover(spec, workdir)
        layout = LAYOUTS[spec.video_format]
        texts = await asyncio.to_thread(
            self._write_texts,
            scratch,
            [
                (spec.title, layout.title),
                (spec.author, layout.author),
                (spec.domain, layout.domain),
            ],
        )
        title_second = texts.pop()
        plan = RenderPlan(
            audio=spec.audio,
            cover=cover,
            output=workdir / OUTPUT_NAME,
            video_format=spec.video_format,
            duration=duration,
            bitrates=bitrates,
            palette=palette,
            title=texts[0],
            author=texts[1],
            domain=texts[2],
            subtitles=spec.subtitles,
            clip=spec.clip,
            title_second=title_second,
            motion=_output_motion(spec.motion, spec.clip, duration),
            visualisation=spec.visualisation,
        )
        graph = build_filter_graph(plan)
        if len(graph) > GRAPH_INLINE_MAX:
            graph_file = scratch / "graph.txt"
            await asyncio.to_thread(graph_file.write_text, graph, encoding="utf-8")
            plan = replace(plan, graph_file=graph_file)
        await self._ffmpeg.run(
            build_args(plan), time_limit=self.time_limit(duration), progress=(duration, on_progress)
        )
        return await self._finish(plan, spec.max_bytes, workdir)

    async def _cover(self, spec: RenderSpec, workdir: Path) -> tuple[Path, Palette]:
        """The given cover and its colours; a generated one when there is none or it is broken."""
        cover = await self.cover_image(spec.cover, spec.title, workdir)
        return cover, await cover_palette(self._ffmpeg, cover)

    async def cover_image(self, cover: Path | None, title: str, workdir: Path) -> Path:
        """The image a render shows for `cover`: as it is, scaled down when too large, or one
        generated from `title` when there is none or it is broken (a Canvas loop's too)."""
        if cover is not None:
            try:
                usable = await self._usable_cover(cover, workdir)
                if usable is not None:
                    return usable
            except (FfmpegFailed, BadInput) as err:
                log.warning("rendering: unreadable cover, using a generated one: %s", err)
        return await generate_cover(self._ffmpeg, workdir / GENERATED_COVER_NAME, title)

    async def _usable_cover(self, cover: Path, workdir: Path) -> Path | None:
        """The cover as the render may read it: as it is up to MAX_COVER_SIDE, else scaled
        down; None when it is too large to decode at all."""
        stream = (await probe(self._ffmpeg, cover)).video
        if stream is None or not stream.width or not stream.height:
            raise BadInput("the cover is not an image")
        if max(stream.width, stream.height) <= MAX_COVER_SIDE:
            return cover
        if stream.width * stream.height > MAX_COVER_PIXELS:
            log.warning(
                "rendering: cover of %sx%s is too large; using a generated one",
                stream.width,
                stream.height,
            )
            return None
        scaled = workdir / SCALED_COVER_NAME
        return await scale_cover(self._ffmpeg, cover, scaled, SCALED_COVER_SIDE)

    def _write_texts(
        self, scratch: Path, texts: list[tuple[str | None, TextSlot]]
    ) -> list[TextLayer | None]:
        """One layer per text, then the first text's second line (a wrapped title) or None."""
        layers: list[TextLayer | None] = []
        second: TextLayer | None = None
        for index, (raw, slot) in enumerate(texts):
            text = clean_text(raw or "")
            if not text:
                layers.append(None)
                continue
            lines, size = fit_lines(text, slot)
            family = self._fonts.family_for(" ".join(lines))  # both lines in the same font
            drawn = []
            for line_index, line in enumerate(lines):
                path = scratch / f"text-{index}-{line_index}.txt"
                path.write_text(line, encoding="utf-8")
                drawn.append(TextLayer(path, family, size))
            layers.append(drawn[0])
            if index == 0 and len(drawn) > 1:
                second = drawn[1]
        return [*layers, second]

    async def _finish(self, plan: RenderPlan, max_bytes: int, workdir: Path) -> RenderedVideo:
        info = await probe(self._ffmpeg, plan.output)
        video = info.video
        if video is None or video.width is None or video.height is None or not info.duration:
            raise BadInput("the rendered file has no video stream")
        size = (await asyncio.to_thread(plan.output.stat)).st_size
        if size > max_bytes:
            raise OutputTooLarge(size, max_bytes)
        thumbnail = await make_thumbnail(
            self._ffmpeg,
            plan.output,
            workdir / THUMBNAIL_NAME,
            width=video.width,
            height=video.height,
            at=min(info.duration / 2, 5.0),
        )
        return RenderedVideo(
            path=plan.output,
            width=video.width,
            height=video.height,
            duration=info.duration,
            size=size,
            thumbnail=thumbnail,
            cover=plan.cover,
        )


def _output_duration(audio: MediaInfo, clip: Clip | None) -> float:
    if audio.audio is None or not audio.duration:
        raise BadInput("the file has no audio")
    if clip is None:
        return audio.duration
    if clip.start >= audio.duration:
        raise BadInput("the clip starts after the end of the track")
    return min(clip.duration, audio.duration - clip.start)


def _output_motion(motion: Motion | None, clip: Clip | None, duration: float) -> Motion | None:
    """The motion from the output's first frame: a teaser's beats move by its clip's start."""
    if motion is None:
        return None
    return motion.clipped(clip.start if clip is not None else 0.0, duration)


def _prepare(spec: RenderSpec, workdir: Path) -> tuple[RenderSpec, Path, Path]:
    """Absolute paths (ffmpeg must never read a path as an option or protocol) and a scratch dir."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    spec = replace(
        spec,
        audio=spec.audio.resolve(),
        cover=spec.cover.resolve() if spec.cover else None,
        subtitles=spec.subtitles.resolve() if spec.subtitles else None,
    )
    return spec, workdir, Path(tempfile.mkdtemp(prefix="render-", dir=workdir))


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
