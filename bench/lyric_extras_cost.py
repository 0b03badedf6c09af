"""What second lines and count-ins cost (issue 19 items 2-3): a 720x1280 render with the sweep
alone and with a second line under every source line plus count-ins (docs/architecture.md §9.5,
§9.6).

The lyrics are karaoke_cost's dense timeline (a word every 0.4 s, a line break every 6 words)
with a 4.4 s gap every 8 lines instead of 2 s, so a count-in comes before the first line and
after each gap. Each variant renders `rounds` times, alternating; the medians of wall time and
of ffmpeg's CPU time are compared. Run:
    python -m bench.lyric_extras_cost [seconds] [rounds]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bench.karaoke_cost import WORDS
from bench.render_speed import _inputs
from bench.render_variants import compare_subtitles
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.model import AlignedLyrics, SecondLine, WordToken, aligned_lyrics

GAP_SECONDS = 4.4  # over the count-in's 4 s


def gapped_lyrics(duration: float) -> tuple[AlignedLyrics, tuple[SecondLine, ...]]:
    """A word every 0.4 s, 6 to a line, a 4.4 s gap every 8 lines; a second line per line."""
    tokens, at, index = [], 1.0, 0
    starts: list[float] = []
    while at < duration - 1.0:
        line, word = divmod(index, 6)
        if word == 0:
            starts.append(at)
        lead = "\n" if word == 0 else ""
        tokens.append(WordToken(lead + WORDS[index % len(WORDS)], at, at + 0.35))
        index += 1
        at += 0.4 + (GAP_SECONDS if word == 5 and line % 8 == 7 else 0.0)
    lyrics = aligned_lyrics(tokens, hoot_cer=0.1)
    ends = [*(start - 0.05 for start in starts[1:]), tokens[-1].end]
    seconds = tuple(
        SecondLine(start, end, f"Перевод строки {number} — 翻訳")
        for number, (start, end) in enumerate(zip(starts, ends, strict=True), 1)
    )
    return lyrics, seconds


async def main(duration: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        audio, cover = _inputs(folder, duration)
        lyrics, seconds = gapped_lyrics(duration)
        layout = layout_for(720, 1280)
        documents = {
            "sweep": karaoke_ass(lyrics, layout),
            "extras": karaoke_ass(lyrics, layout, second_lines=seconds, count_in=True),
        }
        subtitles: dict[str, Path] = {}
        for name, document in documents.items():
            assert document is not None
            subtitles[name] = folder / f"{name}.ass"
            subtitles[name].write_text(document, encoding="utf-8")
            counts = {s: document.count(f",{s},,") for s in ("Current", "Second", "Count")}
            print(f"{name}: {counts}")
        await compare_subtitles(
            folder,
            audio,
            cover,
            dict(subtitles),
            duration=duration,
            rounds=rounds,
            bases={"sweep": "sweep"},
        )


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    asyncio.run(main(seconds, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
