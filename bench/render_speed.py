"""Benchmark: render speed (x real time) of a generated track in every format, with and
without karaoke lyrics.

The lyrics are the bot's own: a dense generated timeline (a word every 0.35 s, sung from 2 s to
the end, a section tag every 8 lines) through bot.lyrics.karaoke_ass with the format's layout,
burned in by libass, as a vocal render does. Prints seconds, x real time, output MB, the extra
time karaoke costs, and this process's RSS before/after each render (ffmpeg is a child, so the
bot's own memory must not grow). Usage:
    .venv/bin/python -m bench.render_speed [seconds]   (default 180, a 3-minute track)
    .venv/bin/python -m bench.render_speed --motion [seconds]

`--motion` (issue 18) renders a generated 128 BPM track with kicks, hats, bass and pads at 9:16
with karaoke twice, `calm` (a still cover), `pulse` (the cover on the beats, from the
track's own analysis) and `sections` (pulse with section looks: verse and chorus alternating
every 15 s, so half the frames carry a chorus look), alternating, and prints each one's speed,
pulse's cost against calm and the section looks' against pulse, the analysis's CPU and the
machine's load average.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg

from bot.engine.track_analyses import motion_of
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import WordToken, aligned_lyrics
from bot.music.track import analyse_track
from bot.rendering import Motion, Renderer, RenderSpec, VideoFormat
from bot.rendering.section_looks import SectionSpan
from tests.music.tracks import beat_track

WORDS = ("neon", "city", "lights", "полночь", "dreams", "真夜中", "drive", "forever", "we", "run")
GOALS = {  # issue 10 (speed and size at 720x1280) and issue 11 (karaoke cost)
    VideoFormat.VERTICAL: "goal: ≥ 4× real time (≤ 45 s for 3 min), ≤ 50 MB",
}
OTHER_GOAL = "goal: none set for this format (issue 10: report it), ≤ 50 MB"
KARAOKE_GOAL = "goal: karaoke adds ≤ 25 % at 720x1280"
MOTION_GOAL = "goal: pulse ≤ +50 % over calm, ≥ 6× real time idle, ≤ 50 MB"
MOTION_ROUNDS = 2
SECTION_SECONDS = 15.0  # the bench's verse and chorus alternate this often


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _lyrics_ass(path: Path, duration: float, width: int, height: int) -> None:
    """Karaoke ASS for the whole track from a dense generated word timeline."""
    tokens: list[WordToken] = []
    t, n = 2.0, 0
    while t + 0.3 < duration:
        word = WORDS[n % len(WORDS)]
        if n % 48 == 0:
            word = f"[{'Chorus' if n % 96 else 'Verse'}]\n{word}"
        elif n % 6 == 0:
            word = f"\n{word}"
        tokens.append(WordToken(word, t, t + 0.3))
        t, n = t + 0.35, n + 1
    document = karaoke_ass(aligned_lyrics(tokens, hoot_cer=0.05), layout_for(width, height))
    assert document is not None
    path.write_text(document, encoding="utf-8")


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


async def _render(
    renderer: Renderer, spec: RenderSpec, workdir: Path
) -> tuple[float, float, float, float]:
    """(seconds, x real time, MB, RSS growth in MB) of one render."""
    before = _rss_mb()
    started = time.monotonic()
    video = await renderer.render(spec, workdir=workdir)
    took = time.monotonic() - started
    video.path.unlink()
    return took, video.duration / took, video.size / 1e6, _rss_mb() - before


async def main(duration: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        audio, cover = _inputs(folder, duration)
        renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
        print(f"track: {duration:.0f} s; fonts missing: {renderer.fonts.missing or 'none'}")
        for video_format in VideoFormat:
            size = f"{video_format.width}x{video_format.height}"
            lyrics = folder / f"lyrics-{size}.ass"
            _lyrics_ass(lyrics, duration, video_format.width, video_format.height)
            results = []
            for subtitles in (None, lyrics):
                spec = RenderSpec(
                    audio=audio,
                    cover=cover,
                    title="Midnight Drive — Полночь 真夜中",
                    author="DJ Bench",
                    domain="example.com",
                    video_format=video_format,
                    subtitles=subtitles,
                )
                workdir = folder / f"out-{size}-{subtitles is not None}"
                results.append(await _render(renderer, spec, workdir))
            goal = GOALS.get(video_format, OTHER_GOAL)
            for (took, speed, mb, grew), label in zip(results, ("", " with lyrics"), strict=True):
                print(
                    f"render {video_format.value} ({size}){label}: {speed:.1f}× real time "
                    f"({took:.1f} s, {mb:.1f} MB, bot RSS {grew:+.1f} MB) ({goal})"
                )
            extra = results[1][0] / results[0][0] - 1
            print(f"karaoke cost {video_format.value}: {extra:+.0%} render time ({KARAOKE_GOAL})")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"largest ffmpeg child RSS: {children:.0f} MB")


async def motion(duration: float) -> None:
    """Pulse against calm at 9:16 with karaoke, on a track with a beat (issue 18)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, cover = _inputs(folder, 1.0)
        wav = beat_track(128.0, duration).write(folder / "beats.wav")
        audio = folder / "beats.m4a"
        renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
        encode = ["-y", "-i", str(wav), "-c:a", "aac", "-b:a", "192k", str(audio)]
        await renderer.ffmpeg.run(encode, time_limit=600)
        before = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
        analysis = await analyse_track(renderer.ffmpeg, audio)
        used = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - before
        pulse = motion_of(analysis)
        assert pulse is not None, "the bench track's beats must be trusted"
        print(
            f"track: {duration:.0f} s at 128 BPM; analysis {used:.2f} s CPU (goal ≤ 1 s), "
            f"{analysis.tempo:.1f} BPM, {len(analysis.beats)} beats, "
            f"confidence {analysis.confidence:.2f}; load average {_load()}"
        )
        width, height = VideoFormat.VERTICAL.size
        lyrics = folder / "lyrics.ass"
        _lyrics_ass(lyrics, duration, width, height)
        looks: dict[str, Motion | None] = {
            "calm": None,
            "pulse": pulse,
            "sections": replace(pulse, sections=_alternating_sections(duration)),
        }
        took: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in looks}
        cpu: dict[str, list[float]] = {name: [] for name in looks}  # ffmpeg's, less load-bound
        for round_ in range(MOTION_ROUNDS):
            for name, moving in looks.items():
                spec = RenderSpec(
                    audio=audio,
                    cover=cover,
                    title="Midnight Drive — Полночь 真夜中",
                    author="DJ Bench",
                    domain="example.com",
                    subtitles=lyrics,
                    motion=moving,
                )
                started = _cpu(resource.RUSAGE_CHILDREN)
                took[name].append(await _render(renderer, spec, folder / f"{name}-{round_}"))
                cpu[name].append(_cpu(resource.RUSAGE_CHILDREN) - started)
        for name, runs in took.items():
            best = min(runs)
            print(
                f"render 9:16 with lyrics, {name}: {best[1]:.1f}× real time (best of "
                f"{len(runs)}: {', '.join(f'{r[0]:.1f}' for r in runs)} s), {best[2]:.1f} MB, "
                f"ffmpeg CPU {min(cpu[name]):.1f} s"
            )
        extra = min(took["pulse"])[0] / min(took["calm"])[0] - 1
        extra_cpu = min(cpu["pulse"]) / min(cpu["calm"]) - 1
        print(
            f"pulse cost against calm: {extra:+.0%} render time, {extra_cpu:+.0%} ffmpeg CPU "
            f"({MOTION_GOAL})"
        )
        extra = min(took["sections"])[0] / min(took["pulse"])[0] - 1
        extra_cpu = min(cpu["sections"]) / min(cpu["pulse"]) - 1
        print(f"section looks' cost against pulse: {extra:+.0%} render time, {extra_cpu:+.0%} CPU")
        print(f"load average after: {_load()}")


def _alternating_sections(duration: float) -> tuple[SectionSpan, ...]:
    """Verse, chorus, verse, chorus, … every SECTION_SECONDS up to `duration`."""
    sections, seen = [], {"verse": 0, "chorus": 0}
    at = 0.0
    while at < duration:
        kind = "chorus" if len(sections) % 2 else "verse"
        sections.append(SectionSpan(at, min(at + SECTION_SECONDS, duration), kind, seen[kind]))
        seen[kind] += 1
        at += SECTION_SECONDS
    return tuple(sections)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--motion"]:
        asyncio.run(motion(float(args[1]) if len(args) > 1 else 180.0))
    else:
        asyncio.run(main(float(args[0]) if args else 180.0))
