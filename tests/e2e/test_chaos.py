"""The bot heals itself: 10 s of database errors, 10 s of refused Telegram connections and one
kill -9 during 60 jobs → every video delivered once, no hot loop, /healthz 200 again."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.storm import run_storm


async def test_database_faults_refused_telegram_and_a_kill9_lose_nothing_and_never_spin(
    tmp_path: Path,
) -> None:
    report = await run_storm(tmp_path, jobs=60)
    print(report.line())  # noqa: T201 - the figures, for the log
    assert report.delivered == report.jobs, report.line()
    # Once, but for the two moments that may cut a send Telegram already took (the kill -9,
    # the refusal cutting open connections): each may repeat that send (docs/architecture.md
    # §7.2).
    assert report.duplicates <= 2, report.line()
    # A failing part backs off: below one core used, and below the whole core a retry
    # loop without a pause demands (ran or waited to run), however busy the machine is.
    for cpu in (report.cpu_db_faults, report.cpu_telegram_refused):
        assert cpu.used < 1.0, report.line()
        assert cpu.demand < 0.9, report.line()
    assert report.healthy_after_db is not None, report.line()
    assert report.healthy_after_telegram is not None, report.line()
    assert report.healthy_at_end, report.line()
