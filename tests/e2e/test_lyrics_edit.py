"""Fixing a track's words end to end (issue 19 items 1-2, docs/architecture.md §9.5): `/lyrics
edit`, the user's reply, the corrected words in the next render's plan and nowhere else, the
"rendered once" key, `/lyrics reset`, errors by line, a correction in two messages and second
lines — through the fake Bot API and the fake upstream, with real renders of its 4 s tone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import JobState, Provider
from bot.engine.render_plan import plan_from_json
from bot.lyrics.corrected import source_lines
from storage.jobs import Job
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot
from tests.e2e.test_render_jobs import RENDER_TIMEOUT, buttons, callback_data
from tests.fakes.telegram import Call
from tests.fakes.upstream import TrackLyrics

USER, OTHER_USER, GROUP = 4242, 5151, -1007777
TRACK = (TASK_ID, AUDIO_ID)
# Four source lines on the generated 4 s tone, in four scripts.
SONG = TrackLyrics(
    [
        ("[Verse]\nПривет", 0.2, 0.6),
        ("мир", 0.6, 1.0),
        ("\n愛", 1.2, 1.5),
        ("してる", 1.5, 1.9),
        ("\n🐶", 2.2, 2.5),
        ("👍🏽", 2.5, 2.8),
        ("\nשלום", 3.0, 3.4),
        ("עולם", 3.4, 3.8),
    ]
)
PROVIDER_LINES = ["Привет мир", "愛してる", "🐶👍🏽", "שלום עולם"]
EDIT = f"/lyrics edit {TASK_ID} {AUDIO_ID}"
RENDER = f"/render {TASK_ID} {AUDIO_ID} 9:16"


async def said(h: Harness, update: dict[str, Any], count: int = 1) -> list[Call]:
    """Push `update`; the `count` sendMessage calls it causes."""
    sent = len(h.telegram.calls_to("sendMessage"))
    h.telegram.push_update(update)
    calls = await h.telegram.wait_for("sendMessage", count=sent + count)
    return calls[sent : sent + count]


def numbered_message(h: Harness, chat_id: int) -> dict[str, Any]:
    """The bot's latest message with the numbered lines."""
    return [m for m in h.telegram.messages(chat_id) if str(m.get("text", "")).startswith("1. ")][-1]


async def render(h: Harness, number: int, *, user_id: int = USER) -> tuple[Call, Job]:
    """Send `/render` and wait for the `number`-th video and its job (job id = number)."""
    await h.submit(RENDER, user_id=user_id)
    call = (await h.telegram.wait_for("sendVideo", count=number, timeout=RENDER_TIMEOUT))[-1]
    return call, await h.wait_state(JobState.DELIVERED, job_id=number)


def line_texts(job: Job) -> list[str]:
    assert job.render_plan is not None
    plan = plan_from_json(job.render_plan)
    assert plan.lyrics is not None
    return [line.text for line in source_lines(plan.lyrics)]


def line_spans(job: Job) -> list[tuple[float, float]]:
    assert job.render_plan is not None
    plan = plan_from_json(job.render_plan)
    assert plan.lyrics is not None
    return [(line.start, line.end) for line in source_lines(plan.lyrics)]


async def test_an_edited_line_is_rendered_in_that_chat_only_until_reset(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        first_call, first = await render(h, 1)
        assert line_texts(first) == PROVIDER_LINES
        assert first.lyrics_revision is None
        assert "✏️ Lyrics" in buttons(first_call)

        # The Lyrics button under the video sends the numbered lines, plain text.
        video = [m for m in h.telegram.messages(USER) if "video" in m][-1]
        data = next(d for d in callback_data(first_call) if d.startswith("le:"))
        tap = h.telegram.callback_query(data, message=video, user_id=USER)
        intro, lines = await said(h, tap, 2)
        assert "Reply to this message" in intro.params["text"]
        assert "The words of «Song A», line by line (4 lines)" in intro.params["text"]
        assert lines.params["text"] == "1. Привет мир\n2. 愛してる\n3. 🐶👍🏽\n4. שלום עולם"
        assert "parse_mode" not in lines.params
        assert lines.params["reply_parameters"]["message_id"] == video["message_id"]

        fix = h.telegram.reply_message(
            "2: 愛 して いる 🎤", to=numbered_message(h, USER), user_id=USER
        )
        [saved] = await said(h, fix)
        assert "Saved: line 2 changed. The next" in saved.params["text"]
        assert buttons(saved) == ["🎬 Render again (9:16)"]

        # Its button renders the track again in the chat's latest format.
        saved_message = h.telegram.messages(USER)[-1]
        again_tap = h.telegram.callback_query(
            callback_data(saved)[0], message=saved_message, user_id=USER
        )
        h.telegram.push_update(again_tap)
        second_call = (await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT))[1]
        second = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert (second.video_format, second.lyrics) == ("9:16", True)
        assert "video" in second_call.files  # a new render, not the first one's file sent again
        assert second.lyrics_revision is not None
        assert line_texts(second) == ["Привет мир", "愛している🎤", "🐶👍🏽", "שלום עולם"]
        assert line_spans(second) == line_spans(first)  # every line's times, exactly

        # Another chat still sees the provider's words: the first render is sent again there.
        other_call, other = await render(h, 3, user_id=OTHER_USER)
        assert other.lyrics_revision is None
        assert other_call.params["video"] == first.file_id

        # /lyrics edit shows the corrected words now.
        _, again = await said(h, h.telegram.private_message(EDIT, user_id=USER), 2)
        assert again.params["text"].split("\n")[1] == "2. 愛している🎤"

        reset_command = f"/lyrics reset {TASK_ID} {AUDIO_ID}"
        [reset] = await said(h, h.telegram.private_message(reset_command, user_id=USER))
        assert "provider's words again" in reset.params["text"]
        reset_call, after_reset = await render(h, 4)
        assert after_reset.lyrics_revision is None
        assert reset_call.params["video"] == first.file_id  # the provider's words: re-sent
        assert h.upstream.lyrics_calls[TRACK] == 1


async def test_errors_by_line_two_messages_and_second_lines(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.media_seconds = 4.0
        h.upstream.set_lyrics(*TRACK, SONG)
        intro, _lines = await said(h, h.telegram.private_message(EDIT, user_id=USER), 2)
        assert "(4 lines)" in intro.params["text"]
        numbered = numbered_message(h, USER)

        def reply(body: str) -> dict[str, Any]:
            return h.telegram.reply_message(body, to=numbered, user_id=USER)

        [bad] = await said(h, reply("9: nope\n2: 愛\n3:   "))
        assert "Nothing saved" in bad.params["text"]
        assert "Line 9" in bad.params["text"]
        assert "Line 3" in bad.params["text"]
        assert "one more message" not in bad.params["text"]
        # A Russian-speaking user reads the problems in Russian.
        russian = h.telegram.private_message("9: нет", user_id=USER, language_code="ru")
        [bad_ru] = await said(h, russian)
        assert "Ничего не сохранено" in bad_ru.params["text"]
        assert "Строка 9: строки 9 нет (в тексте строки 1–4)." in bad_ru.params["text"]
        assert h.app.services is not None
        assert await h.app.services.db.fetch_all("SELECT * FROM lyric_corrections") == []

        # The whole list in two messages: the first is short of lines, the second completes it.
        [half] = await said(h, reply("Привет, мир\n愛してる"))
        assert "Nothing saved" in half.params["text"]
        assert "2 given, the lyrics have 4" in half.params["text"]
        assert "one more message" in half.params["text"]
        rest = h.telegram.private_message("🐶 🐶 👍🏽\nשלום עולם!", user_id=USER)  # not a reply
        [saved] = await said(h, rest)
        assert "Saved: lines 1, 3, 4 changed. The next" in saved.params["text"]

        [seconds] = await said(h, reply("---\n1: Privet, mir\n4: Shalom olam!"))
        assert "Saved: no line changed; 2 second lines" in seconds.params["text"]
        assert "/render" in seconds.params["text"]  # no render here yet: the command instead
        *_, shown_again = await said(h, h.telegram.private_message(EDIT, user_id=USER), 3)
        assert shown_again.params["text"].endswith("---\n1. Privet, mir\n4. Shalom olam!")

        _, job = await render(h, 1)
        assert job.render_plan is not None
        plan = plan_from_json(job.render_plan)
        assert plan.lyrics is not None
        shown = source_lines(plan.lyrics)
        assert [line.text for line in shown] == [
            "Привет, мир",
            "愛してる",
            "🐶🐶👍🏽",
            "שלום עולם!",
        ]
        assert [(s.start, s.end, s.text) for s in plan.second_lines] == [
            (0.2, 1.0, "Privet, mir"),
            (3.0, 3.8, "Shalom olam!"),
        ]

        # A teaser of that chat takes the corrected words too (the 4 s track is used whole).
        await h.submit(f"/teaser {TASK_ID} {AUDIO_ID}", user_id=USER)
        await h.telegram.wait_for("sendVideo", count=2, timeout=RENDER_TIMEOUT)
        teaser = await h.wait_state(JobState.DELIVERED, job_id=2)
        assert teaser.teaser
        assert teaser.lyrics_revision == job.lyrics_revision is not None
        assert line_texts(teaser) == [line.text for line in shown]


async def test_group_replies_count_only_from_the_editor_and_no_lyrics_is_said(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.upstream.set_lyrics(*TRACK, SONG)
        command = h.telegram.group_message(EDIT, chat_id=GROUP, user_id=USER)
        await said(h, command, 2)
        numbered = numbered_message(h, GROUP)
        stranger = h.telegram.reply_message("1: hijacked", to=numbered, user_id=OTHER_USER)
        h.telegram.push_update(stranger)
        await h.settle()
        editor = h.telegram.reply_message("1: Привет, мир!", to=numbered, user_id=USER)
        [saved] = await said(h, editor)
        assert "Saved: line 1 changed" in saved.params["text"]
        texts = [str(c.params["text"]) for c in h.telegram.calls_to("sendMessage")]
        assert not any("hijacked" in t for t in texts)

        # An instrumental (the fake's default answer) has nothing to edit.
        [none] = await said(h, h.telegram.private_message(f"/lyrics edit {TASK_ID} audio-2"))
        assert "no lyrics to fix" in none.params["text"]
        [usage] = await said(h, h.telegram.private_message("/lyrics edit"))
        assert "Usage: /lyrics edit" in usage.params["text"]
        [setting] = await said(h, h.telegram.private_message("/lyrics"))
        assert "Karaoke lyrics are on" in setting.params["text"]  # the settings still answer


async def test_vidgo_has_no_lyrics_to_edit(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.VIDGO) as h:
        [none] = await said(h, h.telegram.private_message(EDIT, user_id=USER))
        assert "no lyrics to fix" in none.params["text"]


async def test_a_pending_edit_and_a_first_half_survive_a_restart(tmp_path: Path) -> None:
    fakes = new_fakes(Provider.KIE)
    telegram, upstream = fakes
    upstream.set_lyrics(*TRACK, SONG)
    async with running_bot(tmp_path, fakes=fakes) as h:
        await said(h, telegram.private_message(EDIT, user_id=USER), 2)
        numbered = numbered_message(h, USER)
        half = telegram.reply_message("Привет, мир\n愛してる", to=numbered, user_id=USER)
        [held] = await said(h, half)
        assert "one more message" in held.params["text"]
    async with running_bot(tmp_path, fakes=fakes) as h:  # the same database, a new process
        rest = telegram.private_message("🐶👍🏽\nשלום עולם", user_id=USER)
        [saved] = await said(h, rest)
        assert "Saved: line 1 changed. The next" in saved.params["text"]
