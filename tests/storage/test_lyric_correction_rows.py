"""Lyric corrections on both backends (docs/architecture.md §9.5): a chat's correction per
track round-trips and is replaced and reset, the edit waiting for a reply keeps its state, a
group's migration carries the corrections along, and `find_rendered` re-sends a render only
with the same correction."""

from __future__ import annotations

from storage.chats import ChatSettingsRepository
from storage.interface import Database
from storage.jobs import KIND_RENDER, JobRepository
from storage.lyric_corrections import LyricCorrectionRepository, LyricEditSessionRepository
from tests.storage.factories import FakeClock, delivered_render, new_job

CHAT, OTHER, SUPERGROUP = -100123, 777, -1009999
TRACK = ("kie", "task-1", "audio-1")
BODY = '{"lyrics":{"words":[["Привет 世界 🎤 שלום",0.2,1.0,true,0.0,[],false]]}}'


async def test_a_correction_is_per_chat_and_track_replaced_and_reset(db: Database) -> None:
    corrections = LyricCorrectionRepository(db)
    assert await corrections.get(CHAT, *TRACK) is None
    await corrections.put(CHAT, *TRACK, body=BODY, revision="r1")
    stored = await corrections.get(CHAT, *TRACK)
    assert stored is not None
    assert (stored.body, stored.revision) == (BODY, "r1")  # scripts intact
    assert await corrections.get(OTHER, *TRACK) is None  # another chat: the provider's words
    assert await corrections.get(CHAT, "kie", "task-1", "audio-2") is None
    await corrections.put(CHAT, *TRACK, body="{}", revision="r2")
    assert (await corrections.get(CHAT, *TRACK)) is not None
    assert (await corrections.get(CHAT, *TRACK)).revision == "r2"  # type: ignore[union-attr]
    assert await corrections.delete(CHAT, *TRACK) is True
    assert await corrections.get(CHAT, *TRACK) is None
    assert await corrections.delete(CHAT, *TRACK) is False


async def test_an_edit_session_keeps_its_state(db: Database, clock: FakeClock) -> None:
    sessions = LyricEditSessionRepository(db, clock)
    assert await sessions.get(CHAT, 5) is None
    await sessions.start(CHAT, 5, *TRACK, message_ids=[10, 11, 12], expires_at=1e10)
    session = await sessions.get(CHAT, 5)
    assert session is not None
    assert (session.task_id, session.message_ids, session.first_text) == (
        "task-1",
        (10, 11, 12),
        None,
    )
    await sessions.hold_first(CHAT, 5, "1. Первая\n2. 第二")
    held = await sessions.get(CHAT, 5)
    assert held is not None
    assert held.first_text == "1. Первая\n2. 第二"
    assert held.first_at == clock().timestamp()
    await sessions.finish(CHAT, 5, 4242, "Saved")
    done = await sessions.get(CHAT, 5)
    assert done is not None
    assert (done.first_text, done.done_update_id, done.done_reply) == (None, 4242, "Saved")
    await sessions.start(CHAT, 5, "kie", "task-2", "audio-9", message_ids=[20], expires_at=1.0)
    again = await sessions.get(CHAT, 5)
    assert again is not None
    assert (again.task_id, again.message_ids, again.done_update_id) == ("task-2", (20,), None)
    assert await sessions.remove_expired() == 1
    assert await sessions.get(CHAT, 5) is None


async def test_a_group_migration_carries_the_corrections(db: Database) -> None:
    corrections = LyricCorrectionRepository(db)
    await corrections.put(CHAT, *TRACK, body=BODY, revision="old-chat")
    await corrections.put(CHAT, "kie", "task-1", "audio-2", body=BODY, revision="both")
    await corrections.put(SUPERGROUP, "kie", "task-1", "audio-2", body="{}", revision="kept")
    await ChatSettingsRepository(db).move_chat(CHAT, SUPERGROUP)
    moved = await corrections.get(SUPERGROUP, *TRACK)
    assert moved is not None
    assert moved.revision == "old-chat"
    kept = await corrections.get(SUPERGROUP, "kie", "task-1", "audio-2")
    assert kept is not None
    assert kept.revision == "kept"  # the new chat's own correction wins


async def test_find_rendered_keys_on_the_correction(repo: JobRepository) -> None:
    provider_words = await delivered_render(repo, "provider-video", lyrics_revision=None)
    asking = await repo.create(
        new_job(kind=KIND_RENDER, video_format="9:16", lyrics_revision="abc")
    )
    assert await repo.find_rendered(asking) is None  # only the provider's words were rendered
    corrected = await delivered_render(repo, "corrected-video", lyrics_revision="abc")
    found = await repo.find_rendered(asking)
    assert found is not None
    assert found.id == corrected.id  # the same correction (any chat): re-sent
    other = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16", lyrics_revision="x"))
    assert await repo.find_rendered(other) is None
    plain = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16"))
    found = await repo.find_rendered(plain)
    assert found is not None
    assert found.id == provider_words.id
