"""Render a generated 3-minute track in every format (with and without a subtitles file).

Prints seconds, times real time, output MB and this process's RSS before/after each render
(ffmpeg is a child, so the bot's own memory must not grow). Run:
    python -m bench.render_speed [seconds]
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from bot.rendering import Renderer, RenderSpec, VideoFormat

ASS_HEADER = """[Script Info]
ScriptType: v4.00+
PlayResX: 720
PlayResY: 1280

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Lyrics,Sans,56,&H00FFFFFF,&H0000FFFF,&H00000000,&H80000000,1,0,0,0,100,100,0,0,1,3,0,5,\
40,40,0,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _clock(seconds: float) -> str:
    return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{seconds % 60:05.2f}"


def _subtitles(path: Path, duration: float) -> None:
    lines = [ASS_HEADER]
    for start in range(0, int(duration), 4):
        words = "".join(f"{{\\k50}}word{n} " for n in range(6))
        lines.append(f"Dialogue: 0,{_clock(start)},{_clock(start + 4)},Lyrics,,0,0,0,,{words}\n")
    path.write_text("".join(lines), encoding="utf-8")


def _inputs(folder: Path, duration: float) -> tuple[Path, Path]:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    audio, cover = folder / "track.m4a", folder / "cover.png"
    music = (
        f"sine=f=220:d={duration}[a];sine=f=330:d={duration}[b];"
        f"anoisesrc=d={duration}:a=0.08:c=pink[n];"
        "[a][b][n]amix=inputs=3,tremolo=f=2:d=0.7,aformat=channel_layouts=stereo"
    )
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-filter_complex",
            music,
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            str(audio),
        ],
        check=True,
    )
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=800x800",
            "-frames:v",
            "1",
            str(cover),
        ],
        check=True,
    )
    return audio, cover


async def main(duration: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        audio, cover = _inputs(folder, duration)
        subtitles = folder / "lyrics.ass"
        _subtitles(subtitles, duration)
        renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
        print(f"track: {duration:.0f} s; fonts missing: {renderer.fonts.missing or 'none'}")
        print(
            f"{'format':<7} {'subs':<5} {'seconds':>8} {'x real':>7} {'MB':>6} "
            f"{'RSS before':>11} {'RSS after':>10}"
        )
        for video_format in VideoFormat:
            for with_subs in (False, True):
                before = _rss_mb()
                started = time.monotonic()
                video = await renderer.render(
                    RenderSpec(
                        audio=audio,
                        cover=cover,
                        title="Midnight Drive — Полночь 真夜中",
                        author="DJ Bench",
                        domain="example.com",
                        video_format=video_format,
                        subtitles=subtitles if with_subs else None,
                    ),
                    workdir=folder / f"out-{video_format.width}x{video_format.height}-{with_subs}",
                )
                took = time.monotonic() - started
                print(
                    f"{video_format.value:<7} {'yes' if with_subs else 'no':<5} {took:8.1f} "
                    f"{video.duration / took:7.1f} {video.size / 1e6:6.1f} "
                    f"{before:9.1f}MB {_rss_mb():8.1f}MB"
                )
                video.path.unlink()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"largest ffmpeg child RSS: {children:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 180.0))
