"""Facts about a media file from `ffmpeg -i` (the wheel ships no ffprobe), and raw frames.

The parser is pure and tested on captured text; the two async functions run the wheel's ffmpeg.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.rendering.errors import BadInput
from bot.rendering.runner import Ffmpeg

PROBE_TIMEOUT_SECONDS = 30.0

_DURATION = re.compile(
    r"^\s*Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A).*?bitrate: (?:(\d+) kb/s|N/A)", re.M
)
_STREAM = re.compile(
    r"^\s*Stream #\d+:(\d+)\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$", re.M
)
_SIZE = re.compile(r"(?:^|, )(\d{2,5})x(\d{2,5})(?:[ ,]|$)")
_PIX_FMT = re.compile(r"^[^,]+, ([a-z0-9_]+)(?:\(|,|$)")
_SAMPLE_RATE = re.compile(r"(\d+) Hz")
_FPS = re.compile(r"([\d.]+) fps")


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One stream line of `ffmpeg -i`."""

    index: int
    kind: str  # "video", "audio", …
    codec: str
    pixel_format: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    attached_picture: bool = False


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What `ffmpeg -i` says about a file: duration (s), overall bitrate, streams."""

    duration: float | None
    bitrate_kbps: int | None
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        """The first real video stream (not a cover picture)."""
        return next((s for s in self.streams if s.kind == "video" and not s.attached_picture), None)

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream."""
        return next((s for s in self.streams if s.kind == "audio"), None)

    @property
    def cover(self) -> StreamInfo | None:
        """The embedded cover art (an attached picture stream), if any."""
        return next((s for s in self.streams if s.attached_picture), None)


def parse_media_info(text: str) -> MediaInfo:
    """Parse the stderr of `ffmpeg -i FILE` (first input only); BadInput when it is not media."""
    start = text.find("Input #0")
    if start < 0:
        raise BadInput(_last_line(text) or "ffmpeg could not read the file")
    section = text[start:]
    following = section.find("\nInput #1")
    section = section if following < 0 else section[:following]
    duration = bitrate = None
    if match := _DURATION.search(section):
        if match.group(1) is not None:
            hours, minutes, seconds = match.group(1, 2, 3)
            duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        bitrate = int(match.group(4)) if match.group(4) else None
    streams = tuple(_parse_stream(m) for m in _STREAM.finditer(section))
    return MediaInfo(duration=duration, bitrate_kbps=bitrate, streams=streams)


def _parse_stream(match: re.Match[str]) -> StreamInfo:
    index, kind, rest = int(match.group(1)), match.group(2).lower(), match.group(3)
    codec = rest.split(",", 1)[0].split(" ", 1)[0]
    info = StreamInfo(index=index, kind=kind, codec=codec)
    if kind == "video":
        size = _SIZE.search(rest)
        pix = _PIX_FMT.search(rest)
        fps = _FPS.search(rest)
        return StreamInfo(
            index=index,
            kind=kind,
            codec=codec,
            pixel_format=pix.group(1) if pix else None,
            width=int(size.group(1)) if size else None,
            height=int(size.group(2)) if size else None,
            fps=float(fps.group(1)) if fps else None,
            attached_picture="(attached pic)" in rest,
        )
    if kind == "audio" and (rate := _SAMPLE_RATE.search(rest)):
        return StreamInfo(index=index, kind=kind, codec=codec, sample_rate=int(rate.group(1)))
    return info


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


async def probe(ffmpeg: Ffmpeg, path: Path) -> MediaInfo:
    """Probe a file with the wheel's ffmpeg (`ffmpeg -i` exits 1 without an output: expected)."""
    done = await ffmpeg.run(["-i", str(path)], time_limit=PROBE_TIMEOUT_SECONDS, check=False)
    return parse_media_info(done.stderr)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame as packed RGB24."""

    width: int
    height: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """The (r, g, b) at column x, row y."""
        offset = (y * self.width + x) * 3
        r, g, b = self.rgb[offset : offset + 3]
        return r, g, b


async def decode_frame(ffmpeg: Ffmpeg, path: Path, at: float, width: int, height: int) -> Frame:
    """Decode the frame at `at` seconds, scaled to width x height, as raw RGB."""
    done = await ffmpeg.run(
        [
            *("-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1"),
            *("-vf", f"scale={width}:{height}:flags=area", "-f", "rawvideo"),
            *("-pix_fmt", "rgb24", "pipe:1"),
        ],
        time_limit=PROBE_TIMEOUT_SECONDS,
    )
    expected = width * height * 3
    if len(done.stdout) != expected:
        raise BadInput(f"decoded {len(done.stdout)} bytes, expected {expected}")
    return Frame(width, height, done.stdout)
