"""Benchmark: kill -9 of the leader while commands arrive (tests/e2e/leader_kill.py).

Two `python -m bot` processes in webhook mode on one throwaway PostgreSQL database take N group
commands from C chats, posted to both in turn; the leader is killed a third of the way through
and the rest go to the survivor. Prints the takeover time, lost and repeated answers, and chats
whose answers came out of order. The suite runs a short variant (tests/e2e/test_followers.py).
Usage: .venv/bin/python -m bench.leader_kill [updates] [chats]   (default 200 20)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.e2e.leader_kill import run_leader_kill


async def main(updates: int, chats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = await run_leader_kill(Path(tmp), updates=updates, chats=chats)
    print(
        f"leader kill -9 during {report.updates} commands from {report.chats} chats:"
        f" takeover {report.takeover_seconds:.1f} s, lost {report.lost}, twice {report.twice},"
        f" chats out of order {report.out_of_order} in {report.seconds:.0f} s"
        " (goal: takeover ≤ 10 s, 0 lost, 0 twice)"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 200, int(args[1]) if len(args) > 1 else 20))
