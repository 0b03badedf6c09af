"""The lyric style on both backends (docs/architecture.md §9.2): a chat's setting round-trips
(NULL reads as the sweep) and `find_rendered` re-sends a render only in the same style."""

from __future__ import annotations

from bot.domain import LyricStyle
from storage.chats import ChatSettingsRepository
from storage.interface import Database
from storage.jobs import KIND_RENDER, JobRepository
from tests.storage.factories import delivered_render, new_job

CHAT = -100123


async def test_a_chats_style_round_trips_and_null_is_the_sweep(db: Database) -> None:
    chats = ChatSettingsRepository(db)
    assert (await chats.get(CHAT)).lyric_style is LyricStyle.SWEEP  # no row
    await chats.set_lyrics(CHAT, on=False)
    assert (await chats.get(CHAT)).lyric_style is LyricStyle.SWEEP  # a row, NULL style
    await chats.set_lyric_style(CHAT, LyricStyle.POP)
    settings = await chats.get(CHAT)
    assert (settings.lyrics, settings.lyric_style) == (False, LyricStyle.POP)  # apart
    await chats.set_lyric_style(CHAT, LyricStyle.SWEEP)
    assert (await chats.get(CHAT)).lyric_style is LyricStyle.SWEEP
    row = await db.fetch_one("SELECT lyric_style FROM chat_settings WHERE chat_id = ?", (CHAT,))
    assert row is not None
    assert row["lyric_style"] is None  # the sweep is stored as NULL, like rows from before


async def test_find_rendered_keys_on_the_style(repo: JobRepository) -> None:
    sweep = await delivered_render(repo, "sweep-video", lyric_style=None)
    asking = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16", lyric_style="pop"))
    assert await repo.find_rendered(asking) is None  # only a sweep render exists
    pop = await delivered_render(repo, "pop-video", lyric_style="pop")
    found = await repo.find_rendered(asking)
    assert found is not None
    assert found.id == pop.id
    again = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16"))
    found = await repo.find_rendered(again)
    assert found is not None
    assert found.id == sweep.id
