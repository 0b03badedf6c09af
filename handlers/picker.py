"""The track picker: `/video <taskId>` lists the music task's tracks as buttons; a tap starts one.

Telegram-facing only: asks the upstream client for the tracks, stores the offer through the
picks repository (a button carries only the pick's row id), and starts jobs via `JobStarter`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.domain import TrackList, TrackListStatus
from bot.engine.admission import AccessPolicy
from bot.engine.rate_limit import Allowance, PerKeyWindow
from bot.telegram_io.callback_data import number_after
from bot.telegram_io.status_messages import is_gone, is_not_modified
from bot.text.error_texts import error_text
from bot.text.render import provider_detail, track_label
from bot.text.texts import text
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import (
    UpstreamError,
)
from handlers.common import Context, language_of, reply, sender_id
from handlers.submit import JobStarter, RenderSource
from storage.picks import TrackPick, TrackPickRepository

log = logging.getLogger(__name__)

PICK_PREFIX = "pk:"
MAX_BUTTONS = 20  # a music task has two tracks; more would only be a wall of buttons
# Track lists a sender may ask for per minute: each costs a provider query (docs/providers.md
# §6.2), so one person's repeated taps cannot crowd out everyone else's polls.
OFFERS_PER_SENDER = 5
OFFER_WINDOW_SECONDS = 60.0


class TrackPicker:
    """Offers a music task's tracks as buttons and turns a tap into a job."""

    def __init__(
        self,
        *,
        upstream: UpstreamClient,
        picks: TrackPickRepository,
        policy: AccessPolicy,
        starter: JobStarter,
        offers: PerKeyWindow | None = None,
    ) -> None:
        self._offers = offers or PerKeyWindow(OFFERS_PER_SENDER, OFFER_WINDOW_SECONDS)
        self._upstream = upstream
        self._picks = picks
        self._policy = policy
        self._starter = starter

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the handler for taps on the picker's buttons."""
        application.add_handler(CallbackQueryHandler(self.on_pick, pattern=r"^pk:\d+$"))

    async def offer(
        self,
        update: Update,
        command: Message,
        task_id: str,
        author: str | None,
        video_format: str | None = None,
        *,
        lyrics: bool = True,
    ) -> None:
        """Reply to `command` with one button per track of `task_id`, or say why there are none.
        With `video_format` (`/render <taskId>`) a tap renders the track in that format (without
        lyrics when `lyrics` is False: `/render <taskId> nolyrics`)."""
        language = language_of(update)
        if not self._policy.allows(sender_id(update), command.chat_id):
            await reply(command, text(language, "not_allowed"))  # before any upstream call
            return
        if not await self._may_offer(update, command, language):
            return
        try:
            tracks = await self._upstream.tracks(task_id)
        except UpstreamError as err:
            log.info("tracks of music task %s not listed: %r", task_id, err)
            await reply(command, error_text(language, "picker", err, task_id=task_id))
            return
        if tracks.status is not TrackListStatus.READY or not tracks.tracks:
            await reply(command, _not_ready_text(language, task_id, tracks))
            return
        offered = [(t.audio_id, t.title, t.duration_seconds) for t in tracks.tracks[:MAX_BUTTONS]]
        picks = await self._picks.offer(
            command.chat_id, task_id, offered, author, video_format, lyrics=lyrics
        )
        extras = text(language, "picker_author", author=author) if author else ""
        body = text(language, "picker_choose", task_id=task_id, extras=extras)
        await reply(command, body, reply_markup=picker_markup(language, picks))

    async def _may_offer(self, update: Update, command: Message, language: str) -> bool:
        """Within the sender's rate of track lists; past it, say "slow down" once, then
        nothing until the sender may ask again (every refusal is said once)."""
        user_id = sender_id(update)
        key: Hashable = user_id if user_id is not None else ("chat", command.chat_id)
        allowance = self._offers.take(key)
        if allowance is Allowance.REFUSED:
            log.info("track lists for %s: over %s a minute; slowed down", key, OFFERS_PER_SENDER)
            seconds = max(1, math.ceil(self._offers.wait(key)))
            await reply(command, text(language, "picker_slow_down", seconds=seconds))
        return allowance is Allowance.GRANTED

    async def on_pick(self, update: Update, context: Context) -> None:
        """A tapped track: answer, then start the job; the picker shows the choice only once
        the tap was admitted, so a refused tap leaves the buttons for everyone else."""
        query = update.callback_query
        if query is None:
            return
        language = language_of(update)
        message = query.message if isinstance(query.message, Message) else None
        pick = await self._pick_of_chat(query.data, message)
        if pick is None or message is None:
            await query.answer(text(language, "picker_expired"))
            return
        await query.answer()

        async def mark_chosen() -> bool:
            return await self._mark_chosen(message, pick, language)

        command = message.reply_to_message or message
        await self._starter.start(
            update,
            command,
            task_id=pick.task_id,
            audio_id=pick.audio_id,
            author=pick.author,
            title=pick.title or None,
            once_admitted=mark_chosen,
            render=RenderSource(pick.video_format, lyrics=pick.lyrics)
            if pick.video_format
            else None,
        )

    async def _pick_of_chat(self, data: str | None, message: Message | None) -> TrackPick | None:
        """The pick a button names, only if it was offered in the chat the button is in."""
        number = number_after(PICK_PREFIX, data)
        if message is None or number is None:
            return None
        pick = await self._picks.get(number)
        return pick if pick is not None and pick.chat_id == message.chat_id else None

    async def _mark_chosen(self, message: Message, pick: TrackPick, language: str) -> bool:
        """Replace the buttons by the chosen track; False if the message already showed it."""
        label = track_label(language, pick.title or pick.audio_id, pick.duration_seconds, 1)
        try:
            await message.edit_text(text(language, "picker_chosen", label=label))
        except BadRequest as exc:
            if is_not_modified(exc):
                return False
            if not is_gone(exc):
                raise
        return True


def picker_markup(language: str, picks: list[TrackPick]) -> InlineKeyboardMarkup:
    """One button per offered track; the callback data is `pk:<row id>`, far below 64 bytes."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    track_label(language, pick.title, pick.duration_seconds, number),
                    callback_data=f"{PICK_PREFIX}{pick.id}",
                )
            ]
            for number, pick in enumerate(picks, start=1)
        ]
    )


def _not_ready_text(language: str, task_id: str, tracks: TrackList) -> str:
    if tracks.status is TrackListStatus.PENDING:
        return text(language, "picker_pending", task_id=task_id)
    if tracks.status is TrackListStatus.FAILED:
        return text(
            language, "picker_failed", task_id=task_id, detail=provider_detail(tracks.error)
        )
    return text(language, "picker_no_tracks", task_id=task_id)
