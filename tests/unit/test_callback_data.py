"""The one parser of `<prefix><number>` button data."""

from __future__ import annotations

import pytest

from bot.rendering import VideoFormat
from bot.telegram_io.callback_data import number_after
from bot.telegram_io.video_buttons import parse_format_button


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("rs:12", 12),
        ("rs:0", 0),
        ("rs:" + "9" * 18, int("9" * 18)),
        ("rs:" + "9" * 19, None),
        ("rs:", None),
        ("rs:-1", None),
        ("rs:1.5", None),
        ("rs:١٢", None),  # non-ASCII digits
        ("xx:12", None),
        ("12", None),
        (None, None),
    ],
)
def test_number_after_accepts_only_plain_numbers(data: str | None, expected: int | None) -> None:
    assert number_after("rs:", data) == expected


def test_format_buttons_parse_their_job_and_format() -> None:
    assert parse_format_button("rf:7:v") == (7, VideoFormat.VERTICAL)
    assert parse_format_button("rf:7:x") is None
    assert parse_format_button("rf:x:v") is None
    assert parse_format_button("rf:7") is None
