"""Benchmark: the long kill -9 fault run (tests/e2e/chaos.py) in both modes.

N jobs in N chats while `python -m bot` is SIGKILLed K times at random moments and restarted,
with a flaky upstream and Telegram 429 storms; prints delivered / lost / duplicate videos per
mode. The suite runs a short variant (tests/e2e/test_kill9.py).
Usage: .venv/bin/python -m bench.kill9 [jobs] [kills]   (default 100 17)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.e2e.chaos import run_chaos


async def main(jobs: int, kills: int) -> None:
    for callbacks in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            report = await run_chaos(
                Path(tmp),
                jobs=jobs,
                kills=kills,
                callbacks=callbacks,
                gap=(0.2, 3.0),
                settle_seconds=120.0,
            )
        print(
            f"kill -9 run, {report.mode}: {report.jobs} jobs, {report.kills} kills: "
            f"delivered {report.delivered}/{report.jobs}, lost {report.lost}, "
            f"duplicates {report.duplicates} in {report.seconds:.0f} s "
            f"(goal: 0 lost, duplicates ≤ kills — only a kill during that very send)"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 100, int(args[1]) if len(args) > 1 else 17))
