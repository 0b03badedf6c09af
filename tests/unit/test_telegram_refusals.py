"""Telegram's permanent refusals are told apart from errors worth a retry, in one place."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, NetworkError, TelegramError

from bot.telegram_io.telegram_refusals import Refusal, permanent_refusal, rights_lost


@pytest.mark.parametrize(
    ("error", "refusal"),
    [
        (BadRequest("Bad Request: not enough rights to send videos to the chat"), Refusal.RIGHTS),
        (BadRequest("Bad Request: CHAT_SEND_VIDEOS_FORBIDDEN"), Refusal.RIGHTS),
        (BadRequest("Bad Request: need administrator rights in the channel chat"), Refusal.RIGHTS),
        (BadRequest("Bad Request: wrong file identifier/HTTP URL specified"), Refusal.FILE_ID),
        (BadRequest("Bad Request: wrong remote file identifier specified"), Refusal.FILE_ID),
        (BadRequest("Bad Request: file is too big"), Refusal.TOO_BIG),
        (NetworkError("Request Entity Too Large"), Refusal.TOO_BIG),
        (BadRequest("Bad Request: wrong type of the web page content"), Refusal.CONTENT),
        (BadRequest("Bad Request: PHOTO_INVALID_DIMENSIONS"), Refusal.CONTENT),
        (BadRequest("Bad Request: message to reply not found"), None),
        (BadRequest("Bad Request: failed to get HTTP URL content"), None),
        (NetworkError("Bad Gateway"), None),
    ],
)
def test_permanent_refusals_are_told_apart(error: TelegramError, refusal: Refusal | None) -> None:
    assert permanent_refusal(error) is refusal


def test_rights_lost_is_the_channel_posters_test() -> None:
    assert rights_lost(BadRequest("Bad Request: bot is not a member of the channel chat"))
    assert not rights_lost(BadRequest("Bad Request: file is too big"))
