"""`SeparationSource` (bot/engine/separations.py, docs/architecture.md §9.7) on a real database
with a settable clock: when a track's separation is asked for again (expired, stale, failed
before the render was made), when a wait ends in failure, and that a request the provider
never took counts nowhere. The provider is a small stand-in for the client's two calls."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.domain import SeparationResult, SeparationStatus
from bot.engine.render_plan import RenderRefused, SourcePending, SourceTransient
from bot.engine.separations import REUSE_FOR, SEPARATION_DEADLINE, STALE_CLAIM, SeparationSource
from bot.upstream.errors import InsufficientCredits, UpstreamError, UpstreamUnavailable
from storage.interface import Database
from storage.jobs import KIND_RENDER, Job, JobRepository
from storage.separations import FAILED, SUCCEEDED, SeparationRepository
from tests.storage.factories import FakeClock, new_job

URL = "https://cdn.test/instrumental.mp3"


@dataclass
class Provider:
    """Answers `separate` with a new id (or `refuse`) and details with `result`."""

    result: SeparationResult = field(
        default_factory=lambda: SeparationResult(SeparationStatus.SUCCEEDED, URL)
    )
    refuse: UpstreamError | None = None
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def separate(self, task_id: str, audio_id: str, callback_url: str) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((task_id, audio_id, callback_url))
        return f"sep-{len(self.sent)}"

    async def details(self, separation_task_id: str) -> SeparationResult:
        return self.result


def source(db: Database, clock: FakeClock, provider: Provider) -> SeparationSource:
    return SeparationSource(
        repo=SeparationRepository(db, clock),
        provider="kie",
        request=provider.separate,
        details=provider.details,
        callback_url="https://bot.test/callbacks/separations",
        clock=clock,
        poll_seconds=5.0,
    )


async def karaoke_job(repo: JobRepository) -> Job:
    return await repo.create(new_job(kind=KIND_RENDER, video_format="9:16", karaoke=True))


async def ready(source: SeparationSource, job: Job) -> str:
    """Ask until the instrumental is there (the provider answers at once)."""
    for _ in range(3):
        try:
            return await source.instrumental(job)
        except SourcePending:
            continue
    raise AssertionError("never ready")


async def test_a_stored_instrumental_is_used_for_13_days_then_asked_again(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    provider = Provider()
    separations = source(db, clock, provider)
    assert await ready(separations, await karaoke_job(repo)) == URL
    clock.advance((REUSE_FOR - STALE_CLAIM).total_seconds())
    assert await separations.instrumental(await karaoke_job(repo)) == URL
    assert len(provider.sent) == 1
    clock.advance(2 * STALE_CLAIM.total_seconds())
    with pytest.raises(SourcePending):  # expired: asked again
        await separations.instrumental(await karaoke_job(repo))
    assert len(provider.sent) == 2


async def test_a_claim_that_was_never_sent_is_taken_over_when_stale(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    provider = Provider()
    separations = source(db, clock, provider)
    job = await karaoke_job(repo)
    claimed = await SeparationRepository(db, clock).claim(
        "kie", job.task_id, job.audio_id, replacing=None, user_id=1, chat_id=1
    )
    assert claimed is not None  # a sender that died before its request went out
    with pytest.raises(SourcePending):
        await separations.instrumental(job)
    assert provider.sent == []
    clock.advance(STALE_CLAIM.total_seconds() + 1)
    assert await ready(separations, job) == URL
    assert len(provider.sent) == 1


async def test_a_separation_pending_past_its_deadline_fails_every_waiting_render(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    provider = Provider(SeparationResult(SeparationStatus.PENDING))
    separations = source(db, clock, provider)
    first, second = await karaoke_job(repo), await karaoke_job(repo)
    with pytest.raises(SourcePending):
        await separations.instrumental(first)
    with pytest.raises(SourcePending):
        await separations.instrumental(second)
    clock.advance(SEPARATION_DEADLINE.total_seconds() + 1)
    for job in (first, second):
        with pytest.raises(RenderRefused) as refused:
            await separations.instrumental(job)
        assert refused.value.kind == "karaoke_failed"
    row = await SeparationRepository(db, clock).get("kie", first.task_id, first.audio_id)
    assert row is not None
    assert row.state == FAILED
    assert len(provider.sent) == 1


async def test_a_failure_is_asked_again_only_by_a_render_made_after_it(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    provider = Provider(refuse=InsufficientCredits("Insufficient Credits", 402))
    separations = source(db, clock, provider)
    before = await karaoke_job(repo)
    with pytest.raises(RenderRefused) as refused:
        await separations.instrumental(before)
    assert (refused.value.kind, refused.value.detail) == ("karaoke_credits", "Insufficient Credits")
    with pytest.raises(RenderRefused):  # the same render, looked at again: the same failure
        await separations.instrumental(before)
    provider.refuse = None
    clock.advance(60)
    after = await karaoke_job(repo)
    assert await ready(separations, after) == URL
    row = await SeparationRepository(db, clock).get("kie", after.task_id, after.audio_id)
    assert row is not None
    assert row.state == SUCCEEDED
    assert len(provider.sent) == 1


async def test_a_request_the_provider_never_took_counts_nowhere(
    db: Database, repo: JobRepository, clock: FakeClock
) -> None:
    provider = Provider(refuse=UpstreamUnavailable("timed out"))
    separations = source(db, clock, provider)
    job = await karaoke_job(repo)
    with pytest.raises(SourceTransient):
        await separations.instrumental(job)
    assert await SeparationRepository(db, clock).get("kie", job.task_id, job.audio_id) is None
    since = clock.advance(0) - SEPARATION_DEADLINE
    assert await repo.count_created_by_user_since(job.user_id or 0, since) == 1  # the job only
