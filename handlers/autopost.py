"""`/autopost`: link this chat to the user's channel, show or remove the link, set the caption.

Telegram-facing only: parses via `bot.distribution.autopost`, checks the channel with Telegram
(`check_channel`), stores through the links repository, renders via `bot.text.texts`. In a group
only its admins may change the link (as for /author). Handling the same update twice
changes nothing: linking the same channel again keeps the first link.
"""

from __future__ import annotations

from telegram import Bot, Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler

from bot.distribution.autopost import (
    Action,
    AutopostCommand,
    TemplateTooLong,
    check_channel,
    parse_autopost_args,
)
from bot.distribution.autopost_caption import DEFAULT_TEMPLATE
from bot.engine.admission import AccessPolicy
from bot.text.commands import command_arguments
from bot.text.texts import text
from handlers.common import NEW_COMMANDS, Context, language_of, reply, sender_id
from handlers.settings import _may_change_settings as may_change_settings
from storage.autopost_links import AutopostLinkRepository


class AutopostHandlers:
    """`/autopost [@channel | -100… | off | caption <template>]`."""

    def __init__(self, *, links: AutopostLinkRepository, policy: AccessPolicy) -> None:
        self._links = links
        self._policy = policy

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the command (new messages and channel posts, never edits)."""
        application.add_handler(CommandHandler("autopost", self.on_autopost, NEW_COMMANDS))

    async def on_autopost(self, update: Update, context: Context) -> None:
        """Show, link, unlink or set the caption, after checking who asks."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        language = language_of(update)
        try:
            command = parse_autopost_args(command_arguments(message.text))
        except TemplateTooLong as err:
            body = text(language, "autopost_caption_too_long", length=err.length, limit=err.limit)
            await reply(message, body)
            return
        refusal = await self._refusal(update, message, context.bot, command)
        if refusal is not None:
            await reply(message, text(language, refusal))
            return
        await reply(message, await self._act(command, message, context.bot, language))

    async def _refusal(
        self, update: Update, message: Message, bot: Bot, command: AutopostCommand
    ) -> str | None:
        """The text key saying why this sender may not do this here, or None."""
        if not self._policy.allows(sender_id(update), message.chat_id):
            return "not_allowed"
        if message.chat.type not in (ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP):
            return "autopost_where"
        if command.action in (Action.SHOW, Action.USAGE):
            return None
        return await self._admin_refusal(update, message, bot)

    async def _admin_refusal(self, update: Update, message: Message, bot: Bot) -> str | None:
        """In a group only its admins may change the link, from their own account."""
        may_change = await may_change_settings(bot, message)
        if may_change is None:
            return "settings_admin_check_failed"
        if not may_change:
            return "autopost_admins_only"
        return "autopost_anonymous" if sender_id(update) is None else None

    async def _act(self, command: AutopostCommand, message: Message, bot: Bot, lang: str) -> str:
        chat_id = message.chat_id
        if command.action is Action.OFF:
            await self._links.unlink(chat_id)
            return text(lang, "autopost_unlinked")
        if command.action is Action.CAPTION:
            await self._links.set_caption(chat_id, command.template, lang)
            saved = "autopost_caption_saved" if command.template else "autopost_caption_reset"
            return f"{text(lang, saved)}\n\n{await self._summary(chat_id, lang)}"
        if command.action is Action.LINK:
            return await self._link(command, message, bot, lang)
        if command.action is Action.LIVE:  # issue 20
            await self._links.set_live(chat_id, command.live, lang)
            switched = "autopost_live_on" if command.live else "autopost_live_off"
            return f"{text(lang, switched)}\n\n{await self._summary(chat_id, lang)}"
        usage = text(lang, "autopost_usage")
        if command.action is Action.USAGE:
            return usage
        return f"{await self._summary(chat_id, lang)}\n\n{usage}"

    async def _link(self, command: AutopostCommand, message: Message, bot: Bot, lang: str) -> str:
        assert command.channel is not None
        assert message.from_user is not None
        verdict = await check_channel(bot, command.channel, message.from_user.id)
        if verdict.refusal is not None or verdict.channel_id is None:
            return text(lang, verdict.refusal or "autopost_check_failed", channel=verdict.label)
        await self._links.link(
            message.chat_id,
            verdict.channel_id,
            title=verdict.label,
            by=message.from_user.id,
            language=lang,
        )
        linked = text(lang, "autopost_linked", channel=verdict.label)
        return f"{linked}\n\n{await self._summary(message.chat_id, lang)}"

    async def _summary(self, chat_id: int, lang: str) -> str:
        link = await self._links.get(chat_id)
        if link is None or not link.active:
            status = text(lang, "autopost_status_off")
        else:
            status = text(lang, "autopost_status_on", channel=link.channel_title)
        if link is not None and link.active and link.live:
            status = f"{status}\n{text(lang, 'autopost_status_live')}"
        template = (link.caption_template if link else None) or DEFAULT_TEMPLATE
        return f"{status}\n{text(lang, 'autopost_caption_preview', template=template)}"
