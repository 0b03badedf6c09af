"""The look on both backends (docs/architecture.md §9.3): a chat's setting round-trips (NULL
reads as pulse, apart from the lyric style) and `find_rendered` re-sends a render only in the
same look."""

from __future__ import annotations

from bot.domain import Look, LyricStyle
from storage.chats import ChatSettingsRepository
from storage.interface import Database
from storage.jobs import KIND_RENDER, JobRepository
from tests.storage.factories import delivered_render, new_job

CHAT = -100123


async def test_a_chats_look_round_trips_and_null_is_pulse(db: Database) -> None:
    chats = ChatSettingsRepository(db)
    assert (await chats.get(CHAT)).look is Look.PULSE  # no row
    await chats.set_lyric_style(CHAT, LyricStyle.POP)
    assert (await chats.get(CHAT)).look is Look.PULSE  # a row, NULL look
    await chats.set_look(CHAT, Look.BARS)
    settings = await chats.get(CHAT)
    assert (settings.look, settings.lyric_style) == (Look.BARS, LyricStyle.POP)  # apart
    await chats.set_look(CHAT, Look.CALM)
    assert (await chats.get(CHAT)).look is Look.CALM
    await chats.set_look(CHAT, Look.PULSE)
    assert (await chats.get(CHAT)).look is Look.PULSE
    row = await db.fetch_one("SELECT look FROM chat_settings WHERE chat_id = ?", (CHAT,))
    assert row is not None
    assert row["look"] is None  # pulse is stored as NULL, like rows from before


async def test_a_look_this_code_does_not_know_reads_as_pulse(db: Database) -> None:
    chats = ChatSettingsRepository(db)
    await chats.set_look(CHAT, Look.CALM)
    await db.execute("UPDATE chat_settings SET look = 'disco' WHERE chat_id = ?", (CHAT,))
    assert (await chats.get(CHAT)).look is Look.PULSE


async def test_find_rendered_keys_on_the_look(repo: JobRepository) -> None:
    pulse = await delivered_render(repo, "pulse-video", look=None)
    calm = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16", look="calm"))
    assert await repo.find_rendered(calm) is None  # only a pulse render exists
    bars = await delivered_render(repo, "bars-video", look="bars")
    assert await repo.find_rendered(calm) is None  # nor a bars one
    asking = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16", look="bars"))
    found = await repo.find_rendered(asking)
    assert found is not None
    assert found.id == bars.id
    again = await repo.create(new_job(kind=KIND_RENDER, video_format="9:16"))
    found = await repo.find_rendered(again)
    assert found is not None
    assert found.id == pulse.id
