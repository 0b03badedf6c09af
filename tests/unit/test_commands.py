"""Parsing of `/video` arguments (docs/architecture.md §13.1)."""

import pytest

from bot.text.commands import (
    AuthorTooLong,
    BadId,
    KaraokeArgs,
    LyricsEditArgs,
    MissingArguments,
    RenderArgs,
    TeaserArgs,
    command_arguments,
    parse_karaoke_args,
    parse_lyrics_edit_args,
    parse_render_args,
    parse_teaser_args,
    parse_video_args,
    strip_quotes,
)


def test_task_audio_and_author_with_spaces() -> None:
    args = parse_video_args("5c79be8e e231-cadc7dc DJ Ann and Friends")
    assert (args.task_id, args.audio_id, args.author) == (
        "5c79be8e",
        "e231-cadc7dc",
        "DJ Ann and Friends",
    )


@pytest.mark.parametrize(
    "raw",
    ['"DJ Ann"', "'DJ Ann'", "“DJ Ann”", "«DJ Ann»", "„DJ Ann“", "  DJ Ann  "],
)
def test_surrounding_quotes_are_stripped(raw: str) -> None:
    assert parse_video_args(f"t a {raw}").author == "DJ Ann"


def test_inner_quotes_are_kept() -> None:
    assert strip_quotes('DJ "Ann"') == 'DJ "Ann"'


def test_author_is_rest_of_first_line_only() -> None:
    assert parse_video_args("t a DJ Ann\nsecond line").author == "DJ Ann"


def test_no_author_is_none() -> None:
    assert parse_video_args("t a").author is None
    assert parse_video_args('t a ""').author is None


def test_author_of_exactly_50_characters_is_accepted() -> None:
    assert parse_video_args("t a " + "x" * 50).author == "x" * 50


def test_author_over_50_characters_is_refused_not_cut() -> None:
    with pytest.raises(AuthorTooLong) as info:
        parse_video_args("t a " + "x" * 51)
    assert info.value.length == 51
    assert info.value.limit == 50


def test_only_task_id_gives_no_audio_id() -> None:
    args = parse_video_args("  task-1  ")
    assert args.task_id == "task-1"
    assert args.audio_id is None


@pytest.mark.parametrize("raw", ["", "   ", "\n"])
def test_nothing_is_missing_arguments(raw: str) -> None:
    with pytest.raises(MissingArguments):
        parse_video_args(raw)


@pytest.mark.parametrize(("raw", "name"), [("t<script> a", "taskId"), ("t a/../b", "audioId")])
def test_ids_with_foreign_characters_are_refused(raw: str, name: str) -> None:
    with pytest.raises(BadId) as info:
        parse_video_args(raw)
    assert info.value.name == name


def test_command_arguments_drops_the_command_and_bot_name() -> None:
    assert command_arguments("/video@MusicVideoBot t a DJ") == "t a DJ"
    assert command_arguments("/video") == ""


def _format(token: str) -> str | None:
    return {"9:16": "9:16", "1x1": "1:1", "16:9": "16:9"}.get(token)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("t1 a1", RenderArgs("t1", "a1", None, None, True)),
        ("t1 a1 9:16 nolyrics", RenderArgs("t1", "a1", "9:16", None, False)),
        ("t1 a1 nolyrics DJ Ann", RenderArgs("t1", "a1", None, "DJ Ann", False)),
        ("t1 a1 1x1 NoLyrics 'DJ Ann'", RenderArgs("t1", "a1", "1:1", "DJ Ann", False)),
        # after an author the word is part of the author
        ("t1 a1 16:9 DJ nolyrics", RenderArgs("t1", "a1", "16:9", "DJ nolyrics", True)),
        # never taken for an audio id
        ("t1 nolyrics", RenderArgs("t1", None, None, None, False)),
        ("9:16", RenderArgs(None, None, "9:16", None, True)),
    ],
)
def test_render_args_with_nolyrics(raw: str, expected: RenderArgs) -> None:
    assert parse_render_args(raw, _format) == expected


def test_teaser_args() -> None:
    assert parse_teaser_args("t1 a1") == TeaserArgs("t1", "a1", True)
    assert parse_teaser_args("t1 a1 nolyrics\nmore") == TeaserArgs("t1", "a1", False)
    with pytest.raises(MissingArguments):
        parse_teaser_args("t1")
    with pytest.raises(BadId):
        parse_teaser_args("t1 a/1")


def test_karaoke_args() -> None:
    assert parse_karaoke_args("t1 a1", _format) == KaraokeArgs("t1", "a1", None)
    assert parse_karaoke_args("t1 a1 1x1\nmore", _format) == KaraokeArgs("t1", "a1", "1:1")
    for wrong in ("t1", "t1 a1 square", "t1 a1 9:16 extra"):
        with pytest.raises(MissingArguments):
            parse_karaoke_args(wrong, _format)
    with pytest.raises(BadId):
        parse_karaoke_args("t1 a/1", _format)


def test_lyrics_edit_args() -> None:
    assert parse_lyrics_edit_args("edit t1 a1") == LyricsEditArgs("edit", "t1", "a1")
    assert parse_lyrics_edit_args(" RESET t1 a1 extra") == LyricsEditArgs("reset", "t1", "a1")
    assert parse_lyrics_edit_args("pop") is None  # a setting, not an edit
    assert parse_lyrics_edit_args("") is None
    with pytest.raises(MissingArguments):
        parse_lyrics_edit_args("edit t1")
    with pytest.raises(BadId):
        parse_lyrics_edit_args("edit t1 a/1")
