"""What karaoke lyrics add to a render: a 3-minute 720x1280 track with and without them.

The lyrics are a generated dense timeline (a word every 0.4 s, a line break every 6 words,
section tags, a 2 s pause every 8 lines) built into ASS by `bot.lyrics` exactly as a render
job does. Each variant renders `rounds` times, alternating, and the median is compared; the
goal is at most 25 % more time (issue 11). Run:
    python -m bench.karaoke_cost [seconds] [rounds]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg

from bench.render_speed import _inputs
from bench.render_variants import bench_spec, render_rounds, runs
from bot.domain import LyricStyle
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import WordToken, aligned_lyrics
from bot.rendering import Renderer

GOAL_PERCENT = 25.0
WORDS = ("shine", "on", "midnight", "highway", "we", "are", "singing", "золото", "loud", "tonight")


def dense_lyrics_ass(duration: float, style: LyricStyle = LyricStyle.SWEEP) -> tuple[str, int]:
    """The ASS document of a word every 0.4 s in a lyric style, and how many words it has."""
    tokens, at, index = [], 1.0, 0
    while at < duration - 1.0:
        line, word = divmod(index, 6)
        lead = ""
        if word == 0:
            lead = "[Chorus]\n" if line % 8 == 0 else "\n"
        tokens.append(WordToken(lead + WORDS[index % len(WORDS)], at, at + 0.35))
        index += 1
        at += 0.4 + (2.0 if word == 5 and line % 8 == 7 else 0.0)
    lyrics = aligned_lyrics(tokens, hoot_cer=0.1)
    document = karaoke_ass(lyrics, layout_for(720, 1280), style=style)
    assert document is not None
    return document, len(tokens)


async def main(duration: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        audio, cover = _inputs(folder, duration)
        document, words = dense_lyrics_ass(duration)
        subtitles = folder / "lyrics.ass"
        subtitles.write_text(document, encoding="utf-8")
        renderer = await Renderer.start(Path(imageio_ffmpeg.get_ffmpeg_exe()), folder / "state")
        print(f"track: {duration:.0f} s at 720x1280; lyrics: {words} words")
        measured = await render_rounds(
            renderer,
            folder,
            (False, True),
            lambda karaoke: bench_spec(audio, cover, subtitles if karaoke else None),
            rounds=rounds,
        )
        plain, sung = measured.median(False), measured.median(True)
        added = 100.0 * (sung - plain) / plain
        print(f"without karaoke: {plain:6.1f} s (runs: {runs(measured.times[False])})")
        print(f"with karaoke:    {sung:6.1f} s (runs: {runs(measured.times[True])})")
        verdict = "within" if added <= GOAL_PERCENT else "OVER"
        print(f"added: {added:+.1f} % ({verdict} the {GOAL_PERCENT:.0f} % goal)")


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 180.0
    asyncio.run(main(seconds, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
