"""Direct messages to the admins about problems only they can fix, at most hourly per cause."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import TelegramError

from bot.engine.job_model import ErrorKind
from bot.text.texts import text

log = logging.getLogger(__name__)


class TelegramAdminAlerts:
    """Sends each admin one message per cause per `quiet_period`."""

    def __init__(
        self,
        bot: Bot,
        admin_ids: Iterable[int],
        clock: Callable[[], datetime],
        quiet_period: timedelta = timedelta(hours=1),
    ) -> None:
        self._bot = bot
        self._admin_ids = sorted(admin_ids)
        self._clock = clock
        self._quiet_period = quiet_period
        self._last_sent: dict[ErrorKind, datetime] = {}

    async def alert(self, kind: ErrorKind, detail: str) -> None:
        """Tell every admin about `kind`, unless they were told within the quiet period."""
        now = self._clock()
        last = self._last_sent.get(kind)
        if not self._admin_ids or (last is not None and now - last < self._quiet_period):
            return
        self._last_sent[kind] = now
        body = text("en", f"admin_alert_{kind}", detail=detail[:300])
        for admin_id in self._admin_ids:
            try:
                await self._bot.send_message(admin_id, body)
            except TelegramError as exc:
                log.warning("could not alert admin %s: %s", admin_id, exc)
