"""What a guest message asks for (docs/architecture.md §10.4): the words after the bot's own
mentions, however it was written."""

from __future__ import annotations

import pytest

from bot.distribution.guest import guest_arguments


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("@MusicVideoBot 5c79 e231 1:1", "5c79 e231 1:1"),
        ("@musicvideobot   5c79\te231", "5c79 e231"),  # any case, any spacing
        ("render this @MusicVideoBot 5c79 e231", "render this 5c79 e231"),
        ("@OtherBot @MusicVideoBot 5c79 e231", "@OtherBot 5c79 e231"),  # others' stay
        ("@MusicVideoBotX 5c79", "@MusicVideoBotX 5c79"),  # not ours: a longer name
        ("mail@MusicVideoBot.com", "mail@MusicVideoBot.com"),  # not a mention
        ("@MusicVideoBot", ""),
        ("", ""),
    ],
)
def test_guest_arguments(written: str, words: str) -> None:
    assert guest_arguments(written, "MusicVideoBot") == words


def test_no_text_no_words() -> None:
    assert guest_arguments(None, "MusicVideoBot") == ""
