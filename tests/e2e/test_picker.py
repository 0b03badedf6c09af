"""`/video <taskId>` lists the tracks as buttons; a tap makes that track's video, end to end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.domain import PROVIDER_RATES, Family, JobState, Provider
from handlers.picker import OFFERS_PER_SENDER
from tests.e2e.harness import TASK_ID, Harness, running_bot

USER = 4242
OTHER_USER = 4343
GROUP = -1001234
PICK_DATA = re.compile(r"^pk:\d+$")


async def offer(h: Harness, command: str, *, chat_id: int = USER) -> dict[str, Any]:
    """Send `command` (privately, or into the group `chat_id`); returns the bot's answer."""
    if chat_id == USER:
        update = h.telegram.private_message(command, user_id=USER)
    else:
        update = h.telegram.group_message(command, chat_id=chat_id, user_id=USER)
    sent = len(h.telegram.calls_to("sendMessage"))
    h.telegram.push_update(update)
    await h.telegram.wait_for("sendMessage", count=sent + 1)
    return h.telegram.messages(chat_id)[-1]


def buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    """The inline buttons of a message, one per row."""
    return [row[0] for row in message["reply_markup"]["inline_keyboard"]]


async def settle(h: Harness) -> None:
    """Wait until every update pushed so far was handled (updates are handled in order)."""
    sent = len(h.telegram.calls_to("sendMessage"))
    h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
    calls = await h.telegram.wait_for("sendMessage", count=sent + 1)
    assert not any("went wrong" in call.params["text"] for call in calls)


@pytest.mark.parametrize("provider", [Provider.KIE, Provider.SUNOAPI, Provider.VIDGO])
async def test_ready_task_offers_one_button_per_track(tmp_path: Path, provider: Provider) -> None:
    async with running_bot(tmp_path, provider) as h:
        picker = await offer(h, f"/video {TASK_ID}")
        assert TASK_ID in picker["text"]
        labels = [button["text"] for button in buttons(picker)]
        assert labels == ["🎵 Song A (3:18)", "🎵 Song B (3:21)"]
        for button in buttons(picker):
            assert PICK_DATA.match(button["callback_data"])
            assert len(button["callback_data"].encode()) <= 64
        assert h.upstream.creates == []


async def test_tap_makes_the_video_of_that_track_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        picker = await offer(h, f"/video@MusicVideoBot {TASK_ID}", chat_id=GROUP)
        command_id = picker["reply_to_message"]["message_id"]
        tap = h.telegram.callback_query(
            buttons(picker)[1]["callback_data"], message=picker, user_id=OTHER_USER
        )
        h.telegram.push_update(tap)

        await h.video_task_id()
        job = await h.job()
        assert (job.audio_id, job.title) == ("audio-2", "Song B")
        assert (job.chat_id, job.user_id, job.command_message_id) == (GROUP, OTHER_USER, command_id)
        [create] = h.upstream.creates
        assert (create["taskId"], create["audioId"]) == (TASK_ID, "audio-2")
        [answer] = h.telegram.calls_to("answerCallbackQuery")
        assert answer.params["callback_query_id"] == tap["callback_query"]["id"]
        status = h.telegram.calls_to("sendMessage")[-1]
        assert "Rendering your video" in status.params["text"]
        assert status.params["reply_parameters"]["message_id"] == command_id
        chosen = next(
            m for m in h.telegram.messages(GROUP) if m["message_id"] == picker["message_id"]
        )
        assert "reply_markup" not in chosen
        assert "Song B (3:21)" in chosen["text"]

        # A second tap on the stale buttons (a double tap) makes no second job.
        h.telegram.push_update(
            h.telegram.callback_query(buttons(picker)[1]["callback_data"], message=picker)
        )
        await h.telegram.wait_for("answerCallbackQuery", count=2)
        await settle(h)
        assert "already making this video (job #1)" in h.telegram.messages(GROUP)[-1]["text"]
        edits = h.telegram.calls_to("editMessageText")
        picker_edits = [e for e in edits if e.params["message_id"] == picker["message_id"]]
        assert len(picker_edits) == 1
        assert await h.repo.get(2) is None
        assert len(h.upstream.creates) == 1


async def test_refused_tap_leaves_the_buttons_for_everyone_else(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, allowed_user_ids=frozenset({USER})) as h:
        picker = await offer(h, f"/video@MusicVideoBot {TASK_ID}", chat_id=GROUP)
        data = buttons(picker)[0]["callback_data"]
        h.telegram.push_update(h.telegram.callback_query(data, message=picker, user_id=OTHER_USER))
        await h.telegram.wait_for("answerCallbackQuery")
        await settle(h)
        assert "this bot is private" in h.telegram.messages(GROUP)[-1]["text"]
        assert h.telegram.calls_to("editMessageText") == []
        assert h.upstream.creates == []
        # The member who may use the bot still can, from the same buttons.
        h.telegram.push_update(h.telegram.callback_query(data, message=picker, user_id=USER))
        await h.video_task_id()
        chosen = next(
            m for m in h.telegram.messages(GROUP) if m["message_id"] == picker["message_id"]
        )
        assert "reply_markup" not in chosen
        assert "Song A" in chosen["text"]


async def test_long_ids_and_titles_still_fit(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        task_id, audio_id = "t" * 128, "a" * 128
        h.upstream.add_music_task(task_id, tracks=[(audio_id, "A very long title " * 8, 3725.0)])
        picker = await offer(h, f"/video {task_id}")
        [button] = buttons(picker)
        assert len(button["callback_data"].encode()) <= 64
        assert button["text"].endswith("… (62:05)")
        assert len(button["text"]) <= 48
        h.telegram.push_update(h.telegram.callback_query(button["callback_data"], message=picker))
        await h.video_task_id()
        assert h.upstream.creates[-1]["audioId"] == audio_id


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PENDING", "is still generating. Try /video task-x again in a minute"),
        ("TEXT_SUCCESS", "is still generating"),
        ("GENERATE_AUDIO_FAILED", "failed, so it has no tracks to make a video of: Audio gen"),
    ],
)
async def test_unfinished_task_says_why_there_are_no_buttons(
    tmp_path: Path, status: str, expected: str
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.add_music_task("task-x", status=status)
        answer = await offer(h, "/video task-x")
        assert expected in answer["text"]
        assert "reply_markup" not in answer


async def test_finished_task_without_tracks_says_so(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.add_music_task("task-x", tracks=[])
        answer = await offer(h, "/video task-x")
        assert "has no finished tracks" in answer["text"]


@pytest.mark.parametrize("provider", [Provider.KIE, Provider.VIDGO])
async def test_unknown_task_is_not_found(tmp_path: Path, provider: Provider) -> None:
    async with running_bot(tmp_path, provider) as h:
        answer = await offer(h, "/video nope")
        assert "I couldn't find music task nope" in answer["text"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (401, "refused the bot's key — please let the bot owner know"),
        (402, "out of credits — please let the bot owner know"),
        (500, "Please try again in a few minutes"),
        (455, "Please try again in a few minutes"),
        (429, "Please try again in a few minutes"),
    ],
)
async def test_upstream_errors_get_one_clear_sentence(
    tmp_path: Path, code: int, expected: str
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.fail_next("tracks", code, "no")
        answer = await offer(h, f"/video {TASK_ID}")
        assert expected in answer["text"]


async def test_pick_of_another_chat_does_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        private_picker = await offer(h, f"/video {TASK_ID}")
        group_picker = await offer(h, f"/video {TASK_ID}", chat_id=GROUP)
        foreign = buttons(private_picker)[0]["callback_data"]
        h.telegram.push_update(h.telegram.callback_query(foreign, message=group_picker))
        [answer] = await h.telegram.wait_for("answerCallbackQuery")
        assert "no longer available" in answer.params["text"]
        await settle(h)
        assert await h.repo.get(1) is None
        assert h.telegram.calls_to("editMessageText") == []
        assert h.upstream.creates == []


async def test_refused_user_gets_the_polite_sentence_before_any_upstream_call(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE, allowed_user_ids=frozenset({1})) as h:
        answer = await offer(h, f"/video {TASK_ID}")
        assert "this bot is private" in answer["text"]
        assert h.upstream.requests == []


async def test_picked_track_title_is_in_the_video_caption(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        picker = await offer(h, f"/video@MusicVideoBot {TASK_ID}", chat_id=GROUP)
        h.telegram.push_update(
            h.telegram.callback_query(
                buttons(picker)[1]["callback_data"], message=picker, user_id=OTHER_USER
            )
        )
        h.upstream.complete(await h.video_task_id())
        [video] = await h.telegram.wait_for("sendVideo")
        assert video.params["caption"].startswith("🎬 Song B\n")


async def test_long_track_title_is_cut_to_fit_the_caption(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.add_music_task("task-x", tracks=[("audio-x", "Endless title " * 200, 100.0)])
        picker = await offer(h, "/video task-x")
        h.telegram.push_update(
            h.telegram.callback_query(buttons(picker)[0]["callback_data"], message=picker)
        )
        h.upstream.complete(await h.video_task_id())
        [video] = await h.telegram.wait_for("sendVideo")
        caption = video.params["caption"]
        assert len(caption.encode("utf-16-le")) // 2 <= 1024
        headline, expiry = caption.split("\n")
        assert headline.startswith("🎬 Endless title")
        assert headline.endswith("…")
        assert re.fullmatch(r"Link valid until \d{4}-\d\d-\d\d \(UTC\)", expiry)
        await h.wait_state(JobState.DELIVERED)
        assert h.telegram.calls_to("sendVideo") == [video]  # the URL was posted: no upload


async def test_long_track_title_is_cut_to_fit_the_link_message(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, max_upload_mb=1) as h:
        h.upstream.add_music_task("task-x", tracks=[("audio-x", "Endless title " * 400, 100.0)])
        h.telegram.refuse_video_urls()
        picker = await offer(h, "/video task-x")
        h.telegram.push_update(
            h.telegram.callback_query(buttons(picker)[0]["callback_data"], message=picker)
        )
        video_task = await h.video_task_id()
        h.upstream.complete(video_task, video_size=2_000_000)  # too large to upload
        job = await h.wait_state(JobState.DELIVERED)
        assert job.video_url is not None
        link = h.telegram.messages(USER)[-1]["text"]
        assert len(link.encode("utf-16-le")) // 2 <= 4096
        assert "…" in link
        assert job.video_url in link
        assert re.search(r"Link valid until \d{4}-\d\d-\d\d \(UTC\)$", link)


@pytest.mark.parametrize(
    ("data", "language", "expected"),
    [
        ("zz:1", "en", "This button is no longer available."),
        ("pk:abc", "en", "This button is no longer available."),
        ("x" * 64, "ru", "Эта кнопка больше не действует."),
        # Buttons of known kinds naming a job that does not exist (or cannot): stale or forged.
        ("cx:" + "9" * 30, "en", "This button is no longer available."),
        ("tz:" + "9" * 30, "en", "This button is no longer available."),
        ("rf:" + "9" * 30 + ":v", "en", "This button is no longer available."),
        ("cx:77", "en", "This button is no longer available."),
    ],
)
async def test_button_no_handler_knows_is_still_answered(
    tmp_path: Path, data: str, language: str, expected: str
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        picker = await offer(h, f"/video {TASK_ID}")
        tap = h.telegram.callback_query(data, message=picker)
        tap["callback_query"]["from"]["language_code"] = language
        h.telegram.push_update(tap)
        [answer] = await h.telegram.wait_for("answerCallbackQuery")
        assert answer.params["text"] == expected
        await settle(h)
        assert len(h.telegram.calls_to("answerCallbackQuery")) == 1
        assert h.telegram.calls_to("editMessageText") == []


async def test_track_lists_for_many_chats_at_once_stay_within_the_provider_rate(
    tmp_path: Path,
) -> None:
    """25 people send `/video <taskId>` at the same moment: each gets the buttons, and the
    provider never counts more than its documented queries a second (docs/providers.md §6.2)."""
    senders = range(7001, 7026)
    async with running_bot(tmp_path, Provider.KIE) as h:
        for user in senders:
            h.telegram.push_update(h.telegram.private_message(f"/video {TASK_ID}", user_id=user))
        await h.telegram.wait_for("sendMessage", count=len(senders), timeout=20)
        for user in senders:
            [picker] = h.telegram.messages(user)
            assert len(buttons(picker)) == 2
    calls, period = PROVIDER_RATES[Family.KIE].details
    assert len(h.upstream.arrivals) == len(senders)
    assert h.upstream.busiest_window(("tracks", "details", "lyrics", "credits"), period) <= calls


async def test_a_sender_asking_for_track_lists_again_and_again_is_told_to_slow_down_once(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        for _ in range(OFFERS_PER_SENDER + 4):
            h.telegram.push_update(h.telegram.private_message(f"/video {TASK_ID}", user_id=USER))
        await h.telegram.wait_for("sendMessage", count=OFFERS_PER_SENDER + 1)
        await settle(h)
        answers = [m["text"] for m in h.telegram.messages(USER)]
        pickers = [text for text in answers if "tap a track" in text]
        slow_downs = [text for text in answers if "Please wait" in text]
        assert len(pickers) == OFFERS_PER_SENDER
        assert len(slow_downs) == 1  # said once, not once per command
        assert re.search(r"wait \d+ s before", slow_downs[0])
        assert len(h.upstream.arrivals) == OFFERS_PER_SENDER  # no query for the refused ones
        # Someone else is not held back by it.
        sent = len(h.telegram.calls_to("sendMessage"))
        h.telegram.push_update(h.telegram.private_message(f"/video {TASK_ID}", user_id=OTHER_USER))
        await h.telegram.wait_for("sendMessage", count=sent + 1)
        assert len(buttons(h.telegram.messages(OTHER_USER)[-1])) == 2
