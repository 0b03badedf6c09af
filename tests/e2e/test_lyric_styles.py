"""`/lyrics pop` end to end (issue 18 item 4, docs/architecture.md §9.2): the chat's style goes
onto the job row, the render shows pop's three states, and the style is part of the "rendered
once" key — through the fake Bot API and the fake upstream with real ffmpeg renders.

The fake's lyrics are timed on the generated 4 s tone: "Sing" is sung 0.2-0.6 s and "loud"
0.6-1.0 s, so at 0.8 s pop shows "Sing" in the pale gold of sung words and "loud" grown in gold,
where the sweep shows both in gold.
"""

from __future__ import annotations

from pathlib import Path

from bot.domain import JobState, LyricStyle, Provider
from bot.lyrics.ass import POP_SUNG
from bot.rendering.probe import Frame
from tests.e2e.harness import AUDIO_ID, TASK_ID, running_bot
from tests.e2e.test_lyrics_jobs import (
    LYRIC_ROWS,
    SONG,
    SUNG_AT,
    TRACK,
    USER,
    answer_to,
    frame_at,
    lyric_pixels,
    uploaded,
)
from tests.e2e.test_render_jobs import RENDER_TIMEOUT

RENDER = f"/render {TASK_ID} {AUDIO_ID} 9:16"
# "Sing" at 48 px, every other column: ~300 pixels of its fill (the sweep: ~10 at its edges)
SUNG_WORD_PIXELS = 150


def sung_pixels(frame: Frame) -> int:
    """Pixels in pop's pale gold of sung words (the sweep has none: its sung words are gold,
    its words to come white)."""
    red, green, blue = int(POP_SUNG[-2:], 16), int(POP_SUNG[-4:-2], 16), int(POP_SUNG[-6:-4], 16)
    count = 0
    for y in LYRIC_ROWS:
        for x in range(0, frame.width, 2):
            r, g, b = frame.pixel(x, y)
            count += abs(r - red) < 30 and abs(g - green) < 30 and abs(b - blue) < 30
    return count


async def test_lyrics_pop_renders_pop_and_is_its_own_look(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        assert "(sweep)" in await answer_to(h, "/lyrics")  # the default
        assert "growing bigger" in await answer_to(h, "/lyrics pop")
        assert "(pop)" in await answer_to(h, "/lyrics")
        assert "Usage" in await answer_to(h, "/lyrics bounce")

        await h.submit(RENDER, user_id=USER)
        first = (await h.telegram.wait_for("sendVideo", timeout=RENDER_TIMEOUT))[0]
        popped = await h.wait_state(JobState.DELIVERED, job_id=1)
        assert (popped.lyrics, popped.lyric_style) == (True, LyricStyle.POP.value)
        assert "video" in first.files  # rendered, not a file_id
        pop = await frame_at(await uploaded(first, tmp_path, "pop"), SUNG_AT)
        assert sung_pixels(pop) > SUNG_WORD_PIXELS  # "Sing" sung, in pale gold

        assert "each word filling" in await answer_to(h, "/lyrics sweep")
        await h.submit(RENDER, user_id=USER)
        second = (await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT))[1]
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (job.lyrics, job.lyric_style) == (True, None)  # NULL: the sweep
        assert "video" in second.files  # another look: rendered anew, not pop's file sent again
        sweep = await frame_at(await uploaded(second, tmp_path, "sweep"), SUNG_AT)
        assert lyric_pixels(sweep) > SUNG_WORD_PIXELS
        assert sung_pixels(sweep) < SUNG_WORD_PIXELS / 3

        await answer_to(h, "/lyrics pop")
        await h.submit(RENDER, user_id=USER)
        third = (await h.telegram.wait_for("sendVideo", count=3, timeout=RENDER_TIMEOUT))[2]
        assert (await h.wait_state(JobState.DELIVERED, job_id=3)).lyric_style == "pop"
        assert "video" not in third.files
        assert third.params["video"] == popped.file_id  # pop again: the first video sent again
