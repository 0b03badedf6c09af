"""Pure pieces of auto-post and sharing: the caption template, hashtags, argument parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.distribution.autopost import Action, TemplateTooLong, parse_autopost_args
from bot.distribution.autopost_caption import hashtags, render_caption
from bot.telegram_io.video_buttons import parse_share_query, share_query
from bot.text.text_limits import utf16_length


def test_default_caption_names_title_author_and_tags() -> None:
    values = {"title": "Song A", "author": "DJ Ann", "tags": hashtags("lo-fi, Rock, rock")}
    assert render_caption(None, values) == "🎬 Song A\n👤 DJ Ann\n#lo_fi #rock"


def test_default_caption_drops_lines_of_missing_values() -> None:
    assert render_caption(None, {"title": "Song A", "author": None, "tags": ""}) == "🎬 Song A"


@pytest.mark.parametrize(
    "template",
    ["{title.__class__}", "{title[0]}", "{0}", "{}", "{author!r}", "{tags:>99999}", "{", "}{"],
)
def test_only_exact_placeholders_are_filled(template: str) -> None:
    assert render_caption(template, {"title": "T", "author": "A", "tags": "#x"}) == template


def test_values_are_never_expanded_again() -> None:
    values = {"title": "{author}", "author": "{title}", "tags": "{tags}"}
    assert render_caption("{title}|{author}|{tags}", values) == "{author}|{title}|{tags}"


@given(st.text(max_size=300), st.text(max_size=300))
def test_any_template_fits_the_caption_limit(template: str, title: str) -> None:
    caption = render_caption(template * 5, {"title": title * 5, "author": None, "tags": None})
    assert utf16_length(caption) <= 1024


def test_hashtags_are_words_only() -> None:
    assert hashtags("Synth-wave; 80s\n, , #dark  pop, ✨") == "#synth_wave #80s #dark_pop"
    assert hashtags(None) == ""


@pytest.mark.parametrize(
    ("arguments", "action", "channel"),
    [
        ("", Action.SHOW, None),
        ("off", Action.OFF, None),
        ("@my_channel", Action.LINK, "@my_channel"),
        ("https://t.me/my_channel", Action.LINK, "@my_channel"),
        ("-1001234567890", Action.LINK, -1001234567890),
        ("12345", Action.USAGE, None),
        ("@a", Action.USAGE, None),
        ("caption", Action.SHOW, None),
    ],
)
def test_autopost_arguments(arguments: str, action: Action, channel: object) -> None:
    command = parse_autopost_args(arguments)
    assert (command.action, command.channel) == (action, channel)


@pytest.mark.parametrize(
    ("arguments", "action", "live"),
    [
        ("live on", Action.LIVE, True),
        ("LIVE Off", Action.LIVE, False),
        ("live", Action.USAGE, False),
        ("live maybe", Action.USAGE, False),
    ],
)
def test_autopost_live_switch(arguments: str, action: Action, live: bool) -> None:
    command = parse_autopost_args(arguments)
    assert (command.action, command.live) == (action, live)


def test_caption_arguments_keep_lines_and_reset() -> None:
    assert parse_autopost_args("caption 🎬 {title}\n{tags}").template == "🎬 {title}\n{tags}"
    reset = parse_autopost_args("caption -")
    assert (reset.action, reset.template) == (Action.CAPTION, None)
    with pytest.raises(TemplateTooLong):
        parse_autopost_args("caption " + "😀" * 513)  # 1026 UTF-16 units


def test_share_query_round_trips() -> None:
    assert parse_share_query(share_query(42)) == 42
    assert parse_share_query("#42 and words") is None
    assert parse_share_query("night drive") is None
