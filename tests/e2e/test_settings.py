"""`/author`, `/domain`, `/credits` and the command menu, end to end through the fakes
(`/style`: tests/e2e/test_looks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import Provider
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot

USER = 4242
ADMIN = 999  # ADMIN_USER_IDS in the harness
GROUP = -1001234
CHANNEL = -1009876


async def say(h: Harness, update: dict[str, Any]) -> str:
    """Push an update; returns the text of the bot's next message."""
    sent = len(h.telegram.calls_to("sendMessage"))
    h.telegram.push_update(update)
    calls = await h.telegram.wait_for("sendMessage", count=sent + 1)
    return str(calls[sent].params["text"])


async def say_privately(h: Harness, command: str, *, user_id: int = USER, **kwargs: Any) -> str:
    """Send `command` in the user's private chat; returns the bot's answer."""
    return await say(h, h.telegram.private_message(command, user_id=user_id, **kwargs))


async def create_body(h: Harness, command: str, job_id: int) -> dict[str, Any]:
    """Send `/video …` privately; returns the body of the upstream create it led to."""
    await say_privately(h, command)
    await h.video_task_id(job_id)
    return h.upstream.creates[-1]


async def test_default_author_is_sent_until_cleared(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        answer = await say_privately(h, '/author "DJ Ann"')
        assert "signed “DJ Ann”" in answer
        assert "Author: DJ Ann" in answer
        assert (await create_body(h, f"/video {TASK_ID} {AUDIO_ID}", 1))["author"] == "DJ Ann"

        answer = await say_privately(h, "/author -")
        assert "cleared" in answer
        assert "Author: not set" in answer
        assert "author" not in await create_body(h, f"/video {TASK_ID} audio-2", 2)


async def test_explicit_author_wins_over_the_default(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        await say_privately(h, "/author Default Name")
        create = await create_body(h, f'/video {TASK_ID} {AUDIO_ID} "Explicit"', 1)
        assert create["author"] == "Explicit"


async def test_too_long_values_are_refused_and_nothing_changes(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        answer = await say_privately(h, "/author " + "x" * 51)
        assert "51 characters long; the limit is 50" in answer
        answer = await say_privately(h, f'/domain "{"d" * 51}"')
        assert "51 characters long; the limit is 50" in answer
        assert await say_privately(h, "/author " + "x" * 50)  # exactly the limit is fine
        answer = await say_privately(h, "/domain")
        assert "Author: " + "x" * 50 in answer
        assert "Watermark: not set" in answer
        assert "/domain -" in answer


async def test_domain_is_sent_as_domain_name(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        answer = await say_privately(h, "/domain «mine.example»")
        assert "watermark “mine.example”" in answer
        create = await create_body(h, f"/video {TASK_ID} {AUDIO_ID}", 1)
        assert create["domainName"] == "mine.example"


async def test_default_domain_name_applies_when_the_chat_has_none(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, default_domain_name="example.com") as h:
        answer = await say_privately(h, "/domain")
        assert "Watermark: example.com (the bot's default)" in answer
        create = await create_body(h, f"/video {TASK_ID} {AUDIO_ID}", 1)
        assert create["domainName"] == "example.com"
        await say_privately(h, "/domain mine.example")
        create = await create_body(h, f"/video {TASK_ID} audio-2", 2)
        assert create["domainName"] == "mine.example"


async def test_only_group_admins_change_the_group_defaults(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        command = "/author@MusicVideoBot Group Name"
        answer = await say(h, h.telegram.group_message(command, chat_id=GROUP, user_id=USER))
        assert "Only this group's admins" in answer
        answer = await say(h, h.telegram.group_message("/author", chat_id=GROUP, user_id=USER))
        assert "Author: not set" in answer  # anyone may look

        h.telegram.set_admins(GROUP, [USER])
        answer = await say(h, h.telegram.group_message(command, chat_id=GROUP, user_id=USER))
        assert "Author: Group Name" in answer
        checked = h.telegram.calls_to("getChatMember")
        assert [(c.params["chat_id"], c.params["user_id"]) for c in checked] == [(GROUP, USER)] * 2


async def test_anonymous_admins_and_channels_may_change_defaults(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        answer = await say(h, h.telegram.anonymous_admin_message("/domain group.example", GROUP))
        assert "Watermark: group.example" in answer
        answer = await say(h, h.telegram.channel_post("/author Channel", chat_id=CHANNEL))
        assert "Author: Channel" in answer
        assert h.telegram.calls_to("getChatMember") == []


async def test_failed_admin_check_says_so(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.fail_next("getChatMember", error_code=400, description="Bad Request: oops")
        update = h.telegram.group_message("/author X", chat_id=GROUP, user_id=USER)
        assert "couldn't check whether you are an admin" in await say(h, update)


async def test_settings_follow_the_allowed_lists(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, allowed_user_ids=frozenset({1})) as h:
        assert "this bot is private" in await say_privately(h, "/author Someone")


async def test_credits_for_admins_only(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        assert "has 100 credits left" in await say_privately(h, "/credits", user_id=ADMIN)
        h.upstream.credits = 12.50
        assert "has 12.5 credits left" in await say_privately(h, "/credits", user_id=ADMIN)
        h.upstream.fail_next("credits", 500, "down")
        assert "try again later" in await say_privately(h, "/credits", user_id=ADMIN)
        h.upstream.fail_next("credits", 401, "bad key")
        assert "refused MUSIC_API_KEY: bad key" in await say_privately(h, "/credits", user_id=ADMIN)

        requests = len(h.upstream.requests)
        assert "only the bot's admins" in await say_privately(h, "/credits", user_id=USER)
        assert len(h.upstream.requests) == requests


async def test_vidgo_credits(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.VIDGO) as h:
        h.upstream.credits = 250.0
        assert "has 250 credits left" in await say_privately(h, "/credits", user_id=ADMIN)


async def test_command_menu_is_set_at_start_in_both_languages(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        calls = h.telegram.calls_to("setMyCommands")
        menus = {(c.params["scope"]["type"], c.params.get("language_code", "")) for c in calls}
        assert len(calls) == 4
        assert menus == {
            ("all_private_chats", ""),
            ("all_private_chats", "ru"),
            ("all_group_chats", ""),
            ("all_group_chats", "ru"),
        }
        for call in calls:
            names = [command["command"] for command in call.params["commands"]]
            assert names == [
                "start", "help", "video", "render", "teaser", "karaoke", "loop", "status", "list",
                "author", "domain", "lyrics", "style", "autopost",
            ]  # fmt: skip
        russian = next(c for c in calls if c.params.get("language_code") == "ru")
        assert "Сделать видео" in russian.params["commands"][2]["description"]


async def test_menu_failure_does_not_stop_the_bot(tmp_path: Path) -> None:
    telegram, upstream = new_fakes(Provider.KIE)
    telegram.fail_next("setMyCommands", error_code=400, description="Bad Request: nope", times=4)
    async with running_bot(tmp_path, Provider.KIE, fakes=(telegram, upstream)) as h:
        assert len(h.telegram.calls_to("setMyCommands")) == 4
        assert "/video" in await say_privately(h, "/help")


async def test_russian_users_get_russian_replies(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        answer = await say_privately(h, "/author Аня", language_code="ru")
        assert "подписываются «Аня»" in answer
        assert "Автор: Аня" in answer
        answer = await say_privately(h, "/domain", language_code="ru")
        assert "Водяной знак: не задан" in answer
        answer = await say_privately(h, "/video nope", language_code="ru")
        assert "не нашёл музыкальную задачу nope" in answer
        answer = await say_privately(h, "/credits", language_code="ru")
        assert "только его администраторам" in answer
