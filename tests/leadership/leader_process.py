"""A process that takes part in an election until it is killed:
`python -m tests.leadership.leader_process DSN NAME` prints `elected <term> <backend pid>`
once it leads."""

from __future__ import annotations

import asyncio
import sys

from bot.leadership import Leadership


async def take_part(dsn: str, name: str) -> None:
    """Lead when elected, say so on stdout, and go on until killed."""
    async with Leadership(dsn, name=name) as leadership:
        async for term in leadership.terms():
            sys.stdout.write(f"elected {term.number} {leadership.backend_pid}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(take_part(sys.argv[1], sys.argv[2]))
