"""Benchmark: render dispatch through the task engine (docs/architecture.md §8.8): defer → start.

N prepared renders are queued the way the leader queues them (`RenderDispatch.queue`, one
transaction with the row), paced at R per second, while one engine worker (concurrency 8) runs
a task that claims each row (`claim_render`, the fence) and returns at once: what is measured is
the dispatch, not ffmpeg. The times come from the engine's own events table (deferred → started).
Goal (issue 17): p95 ≤ 0.5 s. Usage: .venv/bin/python -m bench.render_dispatch [N] [R]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from bot.domain import JobState
from bot.worker.engine import run_render_worker
from storage.jobs import KIND_RENDER, JobRepository
from storage.postgres_db import PostgresDatabase
from storage.render_dispatch import RenderDispatch
from tests.postgres_server import throwaway_database
from tests.storage.factories import new_job

PLAN = '{"v":1,"video_format":"9:16","title":"T","author":null,"domain":null}'
GOAL_P95_SECONDS = 0.5


async def main(jobs: int, rate: float) -> None:
    with throwaway_database() as url:
        async with PostgresDatabase.connect(url) as db:
            repo, dispatch = JobRepository(db), RenderDispatch(db)
            ids = []
            for n in range(jobs):
                job = await repo.create(new_job(kind=KIND_RENDER, audio_id=f"audio-{n}"))
                await repo.transition(job.id, expected=JobState.SUBMITTING, render_plan=PLAN)
                ids.append(job.id)
            claimed: set[int] = set()
            done = asyncio.Event()

            async def render(job_id: int) -> None:
                lease = datetime.now(UTC) + timedelta(hours=1)
                if await repo.claim_render(job_id, lease_until=lease) is not None:
                    claimed.add(job_id)
                if len(claimed) == jobs:
                    done.set()

            worker = asyncio.create_task(
                run_render_worker(url, render, concurrency=8, name="bench")
            )
            await asyncio.sleep(1.0)  # the worker registers and LISTENs
            started = time.perf_counter()
            for job_id in ids:
                await dispatch.queue(job_id, lease_until=datetime.now(UTC) + timedelta(minutes=1))
                await asyncio.sleep(1 / rate)
            async with asyncio.timeout(60):
                await done.wait()
            wall = time.perf_counter() - started
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            rows = await db.fetch_all(
                "SELECT EXTRACT(EPOCH FROM MIN(e.at) FILTER (WHERE e.type = 'started')"
                " - MIN(e.at) FILTER (WHERE e.type = 'deferred'))"
                " FROM procrastinate_events AS e GROUP BY e.job_id"
            )
    latencies = sorted(float(row[0]) for row in rows if row[0] is not None)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"renders queued: {jobs} at {rate:.0f}/s, all claimed in {wall:.1f} s")
    verdict = "met" if p95 <= GOAL_P95_SECONDS else "MISSED"
    print(
        f"render defer -> start: p50 {statistics.median(latencies) * 1000:.0f} ms,"
        f" p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        f" (goal: p95 <= {GOAL_P95_SECONDS * 1000:.0f} ms, {verdict})"
    )


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 200,
            float(sys.argv[2]) if len(sys.argv) > 2 else 20.0,
        )
    )
