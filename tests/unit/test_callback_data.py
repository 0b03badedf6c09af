"""The one parser of `<prefix><number>` button data."""

from __future__ import annotations

import pytest

from bot.domain import JobState
from bot.rendering import VideoFormat
from bot.telegram_io.callback_data import number_after
from bot.telegram_io.video_buttons import (
    format_button_data,
    karaoke_button,
    parse_format_button,
    parse_karaoke_button,
    parse_lyrics_button,
)
from storage.jobs import Job
from tests.storage.factories import START


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


def _job(**fields: object) -> Job:
    values: dict[str, object] = {name: None for name in Job.__dataclass_fields__}
    values.update(
        id=7, chat_id=1, language="en", provider="kie", task_id="t", audio_id="a",
        state=JobState.DELIVERED, callback_token_hash="h", submit_attempts=0, poll_attempts=0,
        delivery_attempts=0, created_at=START, updated_at=START, kind="render", lyrics=True,
        teaser=False, render_fence=0, karaoke=False,
    )  # fmt: skip
    values.update(fields)
    return Job(**values)  # type: ignore[arg-type]


def test_the_karaoke_button_only_under_videos_of_separable_provider_tracks() -> None:
    [button] = karaoke_button(_job())
    assert (button.text, button.callback_data) == ("🎤 Karaoke", "kk:7")
    assert parse_karaoke_button(button.callback_data) == 7
    assert karaoke_button(_job(provider="sunoapi")) != []
    assert karaoke_button(_job(provider="vidgo")) == []  # no vocal separation
    assert karaoke_button(_job(karaoke=True)) == []  # it is the karaoke version
    assert karaoke_button(_job(source_file_id="file-1", task_id="upload")) == []
    assert karaoke_button(_job(provider="retired")) == []


def test_format_and_lyrics_buttons_round_trip() -> None:
    for video_format in VideoFormat:
        assert parse_format_button(format_button_data(7, video_format)) == (7, video_format)
    assert parse_lyrics_button("le:12") == 12
    assert parse_lyrics_button("le:x") is None
    assert parse_lyrics_button("tz:12") is None
