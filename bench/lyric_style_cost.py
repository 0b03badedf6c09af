"""What each lyric style costs (issue 18 item 4): a 720x1280 render without lyrics, with the
sweep and with pop (one ASS event per word state, docs/architecture.md §9.2).

The lyrics are karaoke_cost's dense generated timeline (a word every 0.4 s). Each variant renders
`rounds` times, alternating, and the medians of wall time and of ffmpeg's CPU time (user + system
of the finished children, steadier than wall time on a shared machine) are compared. Run:
    python -m bench.lyric_style_cost [seconds] [rounds]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bench.karaoke_cost import dense_lyrics_ass
from bench.render_speed import _inputs
from bench.render_variants import compare_subtitles
from bot.domain import LyricStyle


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
        await compare_subtitles(
            folder,
            audio,
            cover,
            subtitles,
            duration=duration,
            rounds=rounds,
            bases={"none": "none", "sweep": LyricStyle.SWEEP.value},
        )


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    asyncio.run(main(seconds, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
