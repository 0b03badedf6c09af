"""Benchmark: renders on 1, 2 and 3 render workers, and a worker killed -9 mid-run (issue 17).

A bot (in-process, PostgreSQL, RENDER_CONCURRENCY=0) queues N renders of distinct tracks for N
users; W `python -m bot worker` processes (RENDER_CONCURRENCY=1 each) render them with the
stand-in encoder (bench/stand_in_ffmpeg.py: each encode sleeps like a render on a machine of its
own, then encodes the short clip for real), so W workers on this machine behave like W machines.
Printed: renders per minute for W = 1, 2, 3 (goal: 3 workers ≥ 2.7 times one), then the kill run:
3 workers, one killed -9 while rendering → all N posted, none twice, and how long until the
killed render started again elsewhere (goal ≤ 30 s, with the production heartbeat timings).
Usage: .venv/bin/python -m bench.render_workers [N] [RENDER_SECONDS] [KILL_N] [KILL_RENDER_SECONDS]
(defaults 24 renders of 8 s for the scaling runs, 100 renders of 4 s for the kill run)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `python -m bot` does

from bench.stand_in_ffmpeg import write_stand_in
from tests.e2e.harness import TASK_ID, Harness
from tests.e2e.workers import Worker, busy_worker, scaled_out

SCALING_GOAL = 2.7
RESTART_GOAL_SECONDS = 30.0
FIRST_USER = 50_000


async def _run(
    root: Path, *, workers: int, renders: int, render_seconds: float, kill: bool
) -> tuple[float, int, int, float | None]:
    """(seconds for all renders, videos posted, chats that got more than one, seconds from the
    kill until the killed render was claimed again)."""
    stand_in = write_stand_in(root, render_seconds)
    overrides = {
        "FFMPEG_BINARY": str(stand_in),
        "RENDER_CONCURRENCY": "1",
        "_BOT_TEST_STALLED_AFTER_SECONDS": None,  # the production timings
    }
    async with scaled_out(
        root, workers=workers, worker_overrides=overrides, quota_per_hour=renders + 1
    ) as (h, started):
        h.upstream.add_music_task(
            TASK_ID, tracks=[(f"audio-{n}", f"Song {n}", 3.0) for n in range(renders)]
        )
        return await _render_all(h, started, renders, kill=kill)


async def _render_all(
    h: Harness, workers: list[Worker], renders: int, *, kill: bool
) -> tuple[float, int, int, float | None]:
    begun = time.monotonic()
    for n in range(renders):
        h.telegram.push_update(
            h.telegram.private_message(f"/render {TASK_ID} audio-{n}", user_id=FIRST_USER + n)
        )
    restart: float | None = None
    if kill:
        # Wait until the run is under way, then kill a worker while it renders.
        await h.telegram.wait_for("sendVideo", count=renders // 3, timeout=120)
        victim = await busy_worker(workers, timeout=120)
        victim.process.kill()
        await victim.process.wait()
        killed_at = time.monotonic()
        assert h.app.db is not None
        async with asyncio.timeout(120):
            while not await _claimed_again(h):  # noqa: ASYNC110 - another process's write
                await asyncio.sleep(0.05)
        restart = time.monotonic() - killed_at
    async with asyncio.timeout(60 + renders * 30):
        await h.telegram.wait_for("sendVideo", count=renders, timeout=60 + renders * 30)
    took = time.monotonic() - begun
    await asyncio.sleep(2.0)  # a late duplicate would have arrived by now
    videos = h.telegram.calls_to("sendVideo")
    per_chat = Counter(call.params["chat_id"] for call in videos)
    twice = sum(1 for count in per_chat.values() if count > 1)
    return took, len(videos), twice, restart


async def _claimed_again(h: Harness) -> bool:
    """Whether a render's second attempt was claimed (the killed worker's render, elsewhere)."""
    assert h.app.db is not None
    row = await h.app.db.fetch_one("SELECT MAX(render_fence) FROM jobs")
    return row is not None and row[0] is not None and int(row[0]) >= 2


async def main(
    renders: int, render_seconds: float, kill_renders: int, kill_render_seconds: float
) -> None:
    rates = {}
    for workers in (1, 2, 3):
        with tempfile.TemporaryDirectory() as tmp:
            took, posted, twice, _ = await _run(
                Path(tmp),
                workers=workers,
                renders=renders,
                render_seconds=render_seconds,
                kill=False,
            )
        rates[workers] = posted / took * 60
        print(
            f"{workers} worker(s): {posted}/{renders} renders in {took:.1f} s ="
            f" {rates[workers]:.1f} renders/min, {twice} posted twice",
            flush=True,
        )
    ratio = rates[3] / rates[1]
    print(
        f"render workers: 3 workers make {ratio:.2f}x the renders of one"
        f" (goal: >= {SCALING_GOAL}x, {'met' if ratio >= SCALING_GOAL else 'MISSED'})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        took, posted, twice, restart = await _run(
            Path(tmp),
            workers=3,
            renders=kill_renders,
            render_seconds=kill_render_seconds,
            kill=True,
        )
    assert restart is not None
    ok = posted == kill_renders and twice == 0 and restart <= RESTART_GOAL_SECONDS
    print(
        f"worker kill -9 during {kill_renders} renders: {posted}/{kill_renders} posted,"
        f" {twice} twice, in {took:.0f} s;"
        f" the killed render started again {restart:.1f} s after the kill"
        f" (goal: all once, <= {RESTART_GOAL_SECONDS:.0f} s, {'met' if ok else 'MISSED'})"
    )


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 24,
            float(sys.argv[2]) if len(sys.argv) > 2 else 8.0,
            int(sys.argv[3]) if len(sys.argv) > 3 else 100,
            float(sys.argv[4]) if len(sys.argv) > 4 else 4.0,
        )
    )
