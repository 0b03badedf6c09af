"""Pure parsing of command arguments (docs/architecture.md §13.1). No Telegram types, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bot.domain import MAX_AUTHOR_LENGTH, Look, LyricStyle

_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_QUOTES = (('"', '"'), ("'", "'"), ("“", "”"), ("«", "»"), ("„", "“"), ("\u2018", "\u2019"))


class CommandSyntaxError(ValueError):
    """The arguments cannot be used; subclasses say why."""


class MissingArguments(CommandSyntaxError):
    """Fewer arguments than the command needs."""


class BadId(CommandSyntaxError):
    """An id with characters no provider uses."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"bad {name}")
        self.name = name
        self.value = value


class AuthorTooLong(CommandSyntaxError):
    """An author over the provider's 50-character limit (never cut silently)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"author has {length} characters")
        self.length = length
        self.limit = MAX_AUTHOR_LENGTH


@dataclass(frozen=True, slots=True)
class VideoArgs:
    """The arguments of `/video <taskId> [audioId] [author]`."""

    task_id: str
    audio_id: str | None
    author: str | None


def strip_quotes(value: str) -> str:
    """Remove one pair of surrounding quotes of any common style."""
    value = value.strip()
    for left, right in _QUOTES:
        if len(value) >= 2 and value.startswith(left) and value.endswith(right):
            return value[len(left) : -len(right)].strip()
    return value


def parse_author(raw: str) -> str | None:
    """An author/signature value: quotes stripped, empty → None, over the limit → error."""
    author = strip_quotes(raw)
    if not author:
        return None
    if len(author) > MAX_AUTHOR_LENGTH:
        raise AuthorTooLong(len(author))
    return author


def parse_video_args(arguments: str) -> VideoArgs:
    """Parse the text after `/video`; the author is the rest of the first line."""
    first_line = arguments.strip().split("\n", 1)[0]
    parts = first_line.split(maxsplit=2)
    if not parts:
        raise MissingArguments("taskId is required")
    task_id = parts[0]
    if not _ID.match(task_id):
        raise BadId("taskId", task_id)
    audio_id = parts[1] if len(parts) > 1 else None
    if audio_id is not None and not _ID.match(audio_id):
        raise BadId("audioId", audio_id)
    author = parse_author(parts[2]) if len(parts) > 2 else None
    return VideoArgs(task_id=task_id, audio_id=audio_id, author=author)


def command_arguments(text: str) -> str:
    """The text after the leading `/command[@bot]` word."""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True, slots=True)
class RenderArgs:
    """The arguments of `/render [taskId [audioId]] [format] [author]` (issue 10).

    No task id: render the audio file the command replies to. A task id alone: offer its
    tracks. The format is None when not given (the caller's default applies)."""

    task_id: str | None
    audio_id: str | None
    video_format: str | None
    author: str | None
    lyrics: bool = True  # False: `nolyrics` after the ids or the format (issue 11)


NO_LYRICS = "nolyrics"


def parse_render_args(arguments: str, is_format: Callable[[str], str | None]) -> RenderArgs:
    """Parse the text after `/render`; `is_format` names the canonical format of a token."""
    rest = arguments.strip().split("\n", 1)[0].strip()
    word, rest = _next_word(rest)
    if not word or is_format(word):
        return RenderArgs(None, None, is_format(word) if word else None, None)
    if not _ID.match(word):
        raise BadId("taskId", word)
    task_id = word
    word, after = _next_word(rest)
    audio_id = None
    if word and not is_format(word) and not _is_no_lyrics(word):
        if not _ID.match(word):
            raise BadId("audioId", word)
        audio_id, rest = word, after
        word, after = _next_word(rest)
    video_format = is_format(word) if word else None
    if video_format is not None:
        rest = after
    lyrics = True
    word, after = _next_word(rest)
    if _is_no_lyrics(word):
        lyrics, rest = False, after
    author = parse_author(rest) if rest.strip() else None
    return RenderArgs(task_id, audio_id, video_format, author, lyrics)


@dataclass(frozen=True, slots=True)
class TeaserArgs:
    """The arguments of `/teaser <taskId> <audioId> [nolyrics]` (issue 11)."""

    task_id: str
    audio_id: str
    lyrics: bool = True


def parse_teaser_args(arguments: str) -> TeaserArgs:
    """Parse the text after `/teaser`: both ids are required."""
    parts = _track_words(_first_line_words(arguments))
    lyrics = not (len(parts) > 2 and _is_no_lyrics(parts[2]))
    return TeaserArgs(parts[0], parts[1], lyrics)


@dataclass(frozen=True, slots=True)
class KaraokeArgs:
    """The arguments of `/karaoke <taskId> <audioId> [9:16|1:1|16:9]` (issue 19)."""

    task_id: str
    audio_id: str
    video_format: str | None = None  # None: the default format


def parse_karaoke_args(arguments: str, format_token: Callable[[str], str | None]) -> KaraokeArgs:
    """Parse the text after `/karaoke`: both ids are required, then an optional format
    (`format_token` reads one, None when the word is not a format)."""
    parts = _track_words(_first_line_words(arguments))
    video_format = None
    if len(parts) > 2:
        video_format = format_token(parts[2])
        if video_format is None or len(parts) > 3:
            raise MissingArguments("only a format may follow the ids")
    return KaraokeArgs(parts[0], parts[1], video_format)


@dataclass(frozen=True, slots=True)
class LyricsSetting:
    """What `/lyrics <word>` asks for: lyrics on or off and, for a style's name, that style."""

    on: bool
    style: LyricStyle | None = None  # None: the chat keeps its style


_LYRICS_WORDS = {
    "on": LyricsSetting(on=True),
    "off": LyricsSetting(on=False),
    "вкл": LyricsSetting(on=True),
    "выкл": LyricsSetting(on=False),
    **{style.value: LyricsSetting(on=True, style=style) for style in LyricStyle},
}


def parse_lyrics_setting(argument: str) -> LyricsSetting | None:
    """The argument of `/lyrics` (on, off, sweep or pop; a style's name also turns lyrics on);
    None for anything else."""
    return _LYRICS_WORDS.get(argument.strip().lower())


def parse_look(argument: str) -> Look | None:
    """The argument of `/style` (pulse, bars or calm, any case); None for anything else."""
    try:
        return Look(argument.strip().lower())
    except ValueError:
        return None


def _is_no_lyrics(word: str) -> bool:
    return word.lower() == NO_LYRICS


def _next_word(text: str) -> tuple[str, str]:
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True, slots=True)
class LyricsEditArgs:
    """`/lyrics edit|reset <taskId> <audioId>` (issue 19): the action and the track."""

    action: str  # "edit" or "reset"
    task_id: str
    audio_id: str


LYRICS_EDIT_ACTIONS: Final = ("edit", "reset")


def parse_lyrics_edit_args(arguments: str) -> LyricsEditArgs | None:
    """The text after `/lyrics` when it starts with `edit` or `reset` (else None: a setting);
    both ids are required."""
    parts = _first_line_words(arguments)
    if not parts or parts[0].lower() not in LYRICS_EDIT_ACTIONS:
        return None
    task_id, audio_id = _track_words(parts[1:])[:2]
    return LyricsEditArgs(parts[0].lower(), task_id, audio_id)


def _first_line_words(arguments: str) -> list[str]:
    """The words of the arguments' first line (a command's later lines are not arguments)."""
    return arguments.strip().split("\n", 1)[0].split()


def _track_words(parts: list[str]) -> list[str]:
    """`parts` when they start with a taskId and an audioId; MissingArguments or BadId else."""
    if len(parts) < 2:
        raise MissingArguments("taskId and audioId are required")
    for name, value in (("taskId", parts[0]), ("audioId", parts[1])):
        if not _ID.match(value):
            raise BadId(name, value)
    return parts
