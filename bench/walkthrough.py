"""What a user sees, tried as a user would: the real bot against the fake Bot API and the fake
provider (the tests' harness), driven by typed commands, replies and button taps, printing the
conversation as the chat shows it. Not a test (tests/e2e assert the same flows); a way to read
the bot's answers end to end. Run:
    python -m bench.walkthrough [lyrics|karaoke|loops|guest|all]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, running_bot
from tests.fakes.upstream import TrackLyrics
from tests.music.tracks import beat_track

USER = 4242
RENDER_TIMEOUT = 120.0
SONG = TrackLyrics(
    [
        ("[Verse]\nShine", 0.3, 0.7),
        ("on", 0.7, 1.0),
        ("midnite", 1.0, 1.6),
        ("\nwe", 1.8, 2.1),
        ("are", 2.1, 2.4),
        ("singing", 2.4, 3.0),
        ("\n[Chorus]\nЗолото", 7.5, 8.2),
        ("моё", 8.2, 8.9),
    ]
)


class Chat:
    """One private chat with the bot, printed as it goes."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self._seen = 0

    def user(self, text: str) -> None:
        print(f"\n👤 {text}")

    async def say(self, text: str) -> None:
        self.user(text)
        self.h.telegram.push_update(self.h.telegram.private_message(text, user_id=USER))
        await self.show()

    async def reply(self, text: str, *, to: dict[str, Any]) -> None:
        self.user(f"(reply) {text}")
        self.h.telegram.push_update(self.h.telegram.reply_message(text, to=to, user_id=USER))
        await self.show()

    async def tap(self, label: str, *, wait: float = 10.0) -> None:
        """Tap the newest button labelled `label` in the chat."""
        for message in reversed(self.h.telegram.messages(USER)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        self.user(f"[taps {label}]")
                        update = self.h.telegram.callback_query(
                            button["callback_data"], message=message, user_id=USER
                        )
                        self.h.telegram.push_update(update)
                        await self.show(wait)
                        return
        raise LookupError(f"no button {label!r} in the chat")

    async def show(self, wait: float = 10.0) -> None:
        """Wait until the bot is idle, then print its new messages."""
        await asyncio.sleep(0.2)
        await self.h.settle(wait)
        calls = self.h.telegram.calls[self._seen :]
        self._seen = len(self.h.telegram.calls)
        for call in calls:
            print(describe(call.method, call.params, call.files))

    async def wait_video(self, count: int) -> None:
        await self.h.telegram.wait_for("sendVideo", count=count, timeout=RENDER_TIMEOUT)
        await self.show(RENDER_TIMEOUT)

    def newest(self, starts_with: str) -> dict[str, Any]:
        """The bot's newest message whose text starts with `starts_with`."""
        return next(
            m
            for m in reversed(self.h.telegram.messages(USER))
            if str(m.get("text", "")).startswith(starts_with)
        )


def describe(method: str, params: dict[str, Any], files: Any) -> str:
    """One Bot API call as the chat shows it."""
    if method in {"getUpdates", "getMe", "setMyCommands", "getChat", "answerCallbackQuery"}:
        return f"   · {method}" if method == "answerCallbackQuery" and params.get("text") else ""
    body = params.get("text") or params.get("caption") or ""
    if method == "answerGuestQuery":
        result = params["result"]
        content = result.get("input_message_content") or {}
        body = content.get("message_text") or f"({result['type']} {result.get('video_file_id')})"
    if method == "editMessageMedia":
        media = params["media"]
        body = f"[{media['type']} by file_id into the inline message] {media.get('caption', '')}"
    kind = {"sendVideo": "video", "sendDocument": "document", "sendLivePhoto": "live_photo"}
    part = kind.get(method)
    media = ""
    if part is not None:
        uploaded = sorted(files or ())
        media = f"uploaded: {', '.join(uploaded)}" if uploaded else f"{part} re-sent by file_id"
    buttons = [
        b["text"]
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    parts = [f"🤖 {method}"]
    if media:
        parts.append(f"[{media}]")
    text = "\n   ".join(str(body).splitlines())
    line = " ".join(parts) + (f"\n   {text}" if text else "")
    return line + (f"\n   buttons: {' | '.join(buttons)}" if buttons else "")


async def lyrics_studio(folder: Path) -> None:
    print("=== Lyrics studio: fix a word, add a second line, render, reset ===")
    async with running_bot(folder, Provider.KIE) as h:
        h.upstream.media_seconds = 10.0
        h.upstream.set_lyrics(TASK_ID, AUDIO_ID, SONG)
        chat = Chat(h)
        await chat.say(f"/render {TASK_ID} {AUDIO_ID} 9:16")
        await chat.wait_video(1)
        await chat.tap("✏️ Lyrics")
        numbered = chat.newest("1. ")
        await chat.reply("5: we are sinking", to=numbered)  # a line the lyrics do not have
        await chat.reply("2: we are sinking", to=numbered)
        await chat.reply("1: Shine on midnight\n---\n1: Сияй, полночь\n2: мы поём", to=numbered)
        await chat.tap("🎬 Render again (9:16)", wait=RENDER_TIMEOUT)
        await chat.wait_video(2)
        await chat.say(f"/lyrics reset {TASK_ID} {AUDIO_ID}")
        await chat.say(f"/render {TASK_ID} {AUDIO_ID} 9:16")
        await chat.wait_video(3)
        job = await h.wait_state(JobState.DELIVERED, job_id=2)
        print(f"\n(job 2 was rendered with correction {job.lyrics_revision})")


async def karaoke(folder: Path) -> None:
    print("\n=== Karaoke: the sing-along version, three times the same track ===")
    async with running_bot(folder, Provider.KIE) as h:
        h.upstream.media_seconds = 10.0
        h.upstream.set_lyrics(TASK_ID, AUDIO_ID, SONG)
        chat = Chat(h)
        await chat.say(f"/karaoke {TASK_ID} {AUDIO_ID}")
        await chat.wait_video(1)
        await chat.say(f"/karaoke {TASK_ID} {AUDIO_ID} 1:1")
        await chat.wait_video(2)
        await chat.say(f"/karaoke {TASK_ID} {AUDIO_ID}")
        await chat.wait_video(3)
        calls = sum(h.upstream.separation_calls.values())
        print(f"\n(separation requests sent to the provider: {calls})")
        h.upstream.separation_outcome = "failed"
    async with running_bot(folder / "vidgo", Provider.VIDGO) as h:
        chat = Chat(h)
        await chat.say(f"/karaoke {TASK_ID} {AUDIO_ID}")


async def loops(folder: Path) -> None:
    print("\n=== Loops and live photos: a Spotify Canvas, a live photo, a refusal ===")
    async with running_bot(folder, Provider.KIE) as h:
        track = beat_track(120.0, 10.0).write(folder / "beats.wav")
        h.upstream.media_audio = track.read_bytes()
        chat = Chat(h)
        await chat.say(f"/render {TASK_ID} {AUDIO_ID} 9:16")
        await chat.wait_video(1)
        await chat.tap("🔁 Loop", wait=RENDER_TIMEOUT)
        await h.telegram.wait_for("sendDocument", timeout=RENDER_TIMEOUT)
        await chat.show(RENDER_TIMEOUT)
        await chat.tap("✨ Live", wait=RENDER_TIMEOUT)
        await h.telegram.wait_for("sendLivePhoto", timeout=RENDER_TIMEOUT)
        await chat.show(RENDER_TIMEOUT)
        await chat.say(f"/loop {TASK_ID} {AUDIO_ID}")


async def guest_mode(folder: Path) -> None:
    print("\n=== Render it here: summoned in a chat the bot is not in ===")
    async with running_bot(folder, Provider.KIE) as h:
        chat = Chat(h)
        chat.user(f"(in a friends' group) @MusicVideoBot {TASK_ID} {AUDIO_ID}")
        update = h.telegram.guest_message(f"@MusicVideoBot {TASK_ID} {AUDIO_ID}", user_id=USER)
        h.telegram.push_update(update)
        await h.telegram.wait_for("editMessageMedia", timeout=RENDER_TIMEOUT)
        await chat.show(RENDER_TIMEOUT)
        query_id = update["guest_message"]["guest_query_id"]
        shown = h.telegram.inline_message(h.telegram.guest_inline_ids[query_id])
        print(f"\n(the group now shows: {sorted(shown)} — {shown.get('caption', '')!r})")
        chat.user(f"(in another group) @MusicVideoBot {TASK_ID} {AUDIO_ID}")
        again = h.telegram.guest_message(f"@MusicVideoBot {TASK_ID} {AUDIO_ID}", user_id=USER)
        h.telegram.push_update(again)
        await chat.show()


SCENES = {"lyrics": lyrics_studio, "karaoke": karaoke, "loops": loops, "guest": guest_mode}


async def main(which: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, scene in SCENES.items():
            if which in {name, "all"}:
                folder = Path(tmp) / name
                folder.mkdir()
                await scene(folder)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "all"))
