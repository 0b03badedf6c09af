"""`track_analysis`: a track's music analysis stored once, on both backends (issue 18)."""

from __future__ import annotations

from storage.interface import Database
from storage.lyrics import AnalysisRepository
from tests.storage.factories import FakeClock

TRACK = ("unified", "task-1", "audio-1")
UPLOAD = ("upload", "", "AgADBQADfile-unique")


async def test_stored_once_per_track(db: Database, clock: FakeClock) -> None:
    repo = AnalysisRepository(db, clock)
    assert await repo.get(*TRACK, 1) is None

    await repo.put(*TRACK, 1, '{"v":1,"tempo":128}')
    await repo.put(*TRACK, 1, '{"v":1,"tempo":64}')  # a second analysis of the same method
    await repo.put(*UPLOAD, 1, '{"v":1,"tempo":90}')

    assert await repo.get(*TRACK, 1) == '{"v":1,"tempo":128}'
    assert await repo.get(*UPLOAD, 1) == '{"v":1,"tempo":90}'
    assert await repo.get("unified", "task-1", "audio-2", 1) is None


async def test_a_newer_method_replaces_an_older_analysis(db: Database, clock: FakeClock) -> None:
    repo = AnalysisRepository(db, clock)
    await repo.put(*TRACK, 1, '{"v":1}')
    assert await repo.get(*TRACK, 2) is None  # made by an older method: analyse again

    await repo.put(*TRACK, 2, '{"v":2}')
    await repo.put(*TRACK, 1, '{"v":1}')  # an older process still running: not a step back

    assert await repo.get(*TRACK, 2) == '{"v":2}'
    assert await repo.get(*TRACK, 1) == '{"v":2}'
    row = await db.fetch_one("SELECT analysed_at, version FROM track_analysis")
    assert row is not None
    assert (row["version"], row["analysed_at"]) == (2, clock().timestamp())
