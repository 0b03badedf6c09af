"""Sharing a past video from any chat (issue 12): inline queries and the Share button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import Provider
from tests.e2e.distribution import deliver, stored_video
from tests.e2e.harness import Harness, new_fakes, running_bot

USER = 4242
OTHER = 5151


async def inline(h: Harness, query: str, user_id: int = USER) -> dict[str, Any]:
    """Type `@Bot <query>` as `user_id`; returns the bot's answerInlineQuery parameters."""
    update = h.telegram.inline_query(query, user_id=user_id)
    h.telegram.push_update(update)
    query_id = update["inline_query"]["id"]
    await h.telegram.wait_for(
        "answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id
    )
    return h.telegram.inline_answers[query_id]


def titles(answer: dict[str, Any]) -> list[str]:
    """The titles of the offered results, in order."""
    return [str(result["title"]) for result in answer["results"]]


async def test_inline_lists_only_the_askers_own_videos_newest_first(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        mine = [
            await stored_video(h, chat_id=USER, user_id=USER, title=title)
            for title in ("Night Drive", "Morning Run", "Night Swim")
        ]
        await stored_video(h, chat_id=OTHER, user_id=OTHER, title="Night Secret")
        await stored_video(h, chat_id=-100777, user_id=OTHER, title="Night Group")
        answer = await inline(h, "")
        assert titles(answer) == ["Night Swim", "Morning Run", "Night Drive"]
        assert answer["is_personal"] is True
        [first] = [r for r in answer["results"] if r["title"] == "Night Swim"]
        assert first["type"] == "video"
        assert first["video_file_id"] == mine[2].file_id
        assert first["caption"] == "🎬 Night Swim"
        # Words match titles, case-insensitively, all of them.
        assert titles(await inline(h, "night")) == ["Night Swim", "Night Drive"]
        assert titles(await inline(h, "NIGHT drive")) == ["Night Drive"]
        # Someone else's words find only their own videos.
        assert titles(await inline(h, "night", user_id=OTHER)) == ["Night Group", "Night Secret"]


async def test_inline_answers_an_empty_list_when_nothing_matches(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        answer = await inline(h, "anything")  # no videos at all
        assert answer["results"] == []
        assert answer["is_personal"] is True
        await stored_video(h, chat_id=USER, user_id=USER, title="Song")
        assert (await inline(h, "nomatch"))["results"] == []


async def test_inline_offers_at_most_fifty(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        for n in range(60):
            await stored_video(h, chat_id=USER, user_id=USER, title=f"Track {n:02d}")
        answer = await inline(h, "track")
        assert len(answer["results"]) == 50
        assert titles(answer)[0] == "Track 59"
        assert titles(answer)[-1] == "Track 10"


async def test_a_share_token_selects_exactly_one_own_video(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        first = await stored_video(h, chat_id=USER, user_id=USER, title="One")
        await stored_video(h, chat_id=USER, user_id=USER, title="Two")
        theirs = await stored_video(h, chat_id=OTHER, user_id=OTHER, title="Theirs")
        assert titles(await inline(h, f"#{first.id}")) == ["One"]
        assert (await inline(h, f"#{theirs.id}"))["results"] == []  # never another's video


async def test_the_share_button_is_there_only_with_inline_mode(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.supports_inline_queries = True
    async with running_bot(tmp_path / "on", Provider.KIE, fakes=(telegram, upstream)) as h:
        job = await deliver(h, 1, user_id=USER)
        [video] = [m for m in telegram.messages(USER) if "video" in m]
        *_, [button] = video["reply_markup"]["inline_keyboard"]  # below the format buttons
        assert button["text"] == "↗️ Share"
        assert button["switch_inline_query"] == f"#{job.id}"
        # Tapping it types `@Bot #1` in the chosen chat: exactly that video is offered.
        assert [r["video_file_id"] for r in (await inline(h, f"#{job.id}"))["results"]] == [
            job.file_id
        ]
    telegram, upstream = new_fakes(Provider.KIE)  # inline mode off (the default)
    async with running_bot(tmp_path / "off", Provider.KIE, fakes=(telegram, upstream)) as h:
        await deliver(h, 1, user_id=USER)
        [video] = [m for m in telegram.messages(USER) if "video" in m]
        rows = video["reply_markup"]["inline_keyboard"]
        assert [[b["text"] for b in row] for row in rows] == [
            ["9:16", "1:1", "✂️ Teaser"],
            ["✏️ Lyrics", "🎤 Karaoke"],
            ["🔁 Loop", "✨ Live"],
        ]  # no Share
