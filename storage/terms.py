"""The leader's term as a write guard: a leader-only transaction first proves that the term it
was started under is still the current one (`leader_terms`, PostgreSQL only), so that a deposed
leader's late write does nothing (docs/architecture.md §5.4, "Fencing numbers").

Must not import Telegram, httpx, psycopg or anything from `bot`: the election
(bot/leadership.py) hands storage a plain `LeaderTerm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from storage.errors import StorageError
from storage.interface import Database

# FOR SHARE keeps the term row as it is until the transaction ends, so the next term's
# increment waits for it: a guarded transaction either commits before the next term begins or
# sees that term and stops.
TERM_GUARD_SQL: Final = "SELECT term FROM leader_terms WHERE name = ? FOR SHARE"


@dataclass(frozen=True, slots=True)
class LeaderTerm:
    """One leadership term: of which election (`name`) and which (`number`)."""

    name: str
    number: int


class StaleTerm(StorageError):
    """The term a write was guarded by is over: the write was not made."""


async def hold_term(db: Database, term: LeaderTerm) -> None:
    """Inside the caller's open transaction: check that `term` is still current and keep it so
    until the transaction ends; raise StaleTerm (the transaction then rolls back) if not."""
    row = await db.fetch_one(TERM_GUARD_SQL, (term.name,))
    current = None if row is None else int(row[0])
    if current != term.number:
        raise StaleTerm(f"term {term.number} of {term.name!r} is over (now {current})")
