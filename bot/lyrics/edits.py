"""Lyric corrections: the lines as numbered text, a user's reply parsed, and the edits applied.

The user gets the track's display lines numbered ("1. text"), and replies with either the whole
list again or only the changed lines as "N: new text"; an optional block after a line `---`
gives a second line (a translation, a romanization) per lyric line, numbered the same way.
Applying a correction changes only the lines whose text changed: every line keeps its start and
end (the same float values), and the words of an edited line are re-timed inside its span
(docs/architecture.md §9.5). Text is kept as typed (no Unicode normalisation): only whitespace
and control characters are collapsed, as `bot.lyrics.model` does for provider words.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from bot.lyrics.lines import LyricLine
from bot.lyrics.model import AlignedWord

TELEGRAM_TEXT_LIMIT = 4096  # a message's text, in UTF-16 code units (Bot API sendMessage)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
# "12. text", "12: text", "12) text"; full-width colon and any Unicode decimal digits too.
_NUMBERED = re.compile(r"(\d{1,6})\s*[.:：)]\s*(.*)", re.DOTALL)
# The separator line; phones turn "--" into a dash, so a lone dash (with hyphens) counts too.
_SEPARATOR = re.compile(r"(?:-{3,}|[—–]+-*)")
_ZWJ = "\u200d"


class Problem(NamedTuple):
    """One thing wrong with a reply: the lyric line it concerns (1-based) or None, and why.

    `reason` is English; `key` and `values` name the same problem for the chat's language
    (`PROBLEMS[key]` is the English template, the text catalogue holds the others)."""

    line: int | None
    reason: str
    key: str = ""
    values: tuple[tuple[str, str | int], ...] = ()


# English templates of the problems; the text catalogue's `lyrics_problem_<key>` must say the
# same in English (a test checks it) and says it in the other languages.
PROBLEMS: Mapping[str, str] = MappingProxyType(
    {
        "no_lines": "The reply has no lines.",
        "no_second_lines": "Nothing after the --- line: add the second lines.",
        "row_count": "Lines: {given} given, the lyrics have {count}. Send all {count}, or only "
        "the changed ones as 'N: text'.",
        "second_row_count": "Second lines: {given} given, the lyrics have {count}. Send all "
        "{count}, or only the changed ones as 'N: text'.",
        "no_number": "No line number before “{row}” (write 'N: text').",
        "no_such_line": "there is no line {number} (the lyrics have lines 1–{count}).",
        "no_such_second_line": "there is no second line {number} (the lyrics have lines "
        "1–{count}).",
        "unknown_line": "there is no line {number}.",
        "twice": "given twice.",
        "second_twice": "second line given twice.",
        "empty": "the new text is empty.",
        "second_empty": "the second line text is empty.",
    }
)


def problem(line: int | None, key: str, **values: str | int) -> Problem:
    """The problem `key` (a `PROBLEMS` template) about `line`, with its values."""
    return Problem(line, PROBLEMS[key].format(**values), key, tuple(values.items()))


class CorrectionError(ValueError):
    """A reply that cannot be applied; `problems` lists every problem found, nothing is applied."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        """The problems one per line, by line number, for the chat."""
        return "\n".join(
            f"Line {p.line}: {p.reason}" if p.line is not None else p.reason for p in self.problems
        )


@dataclass(frozen=True, slots=True)
class Correction:
    """New text per lyric line and second lines per lyric line, keyed by 1-based line number."""

    texts: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    second_lines: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


def numbered_text(lines: Sequence[LyricLine], *, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """The lines as "N. text", one per line, in chunks that each fit one Telegram message.

    Chunks break between lines only (a line longer than `limit` on its own, which display lines
    never are, is cut); numbering runs on across chunks, so a reply may quote any of them.
    """
    chunks: list[str] = []
    current = ""
    for number, line in enumerate(lines, start=1):
        row = f"{number}. {line.text}"
        candidate = f"{current}\n{row}" if current else row
        if _utf16_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while _utf16_length(row) > limit:
            head = _utf16_prefix(row, limit)
            chunks.append(head)
            row = row[len(head) :]
        current = row
    if current:
        chunks.append(current)
    return chunks


def parse_correction(reply: str, line_count: int) -> Correction:
    """A user's reply as a correction of `line_count` lines; raises CorrectionError listing all
    problems at once.

    Both blocks (lyrics, and second lines after `---`) accept every row numbered ("N. text",
    "N: text"; any subset of lines, each at most once), or no row numbered and exactly
    `line_count` rows (the whole list). A whole list where only some rows kept their number is
    read by position. Blank rows are ignored.
    """
    rows = [_clean(row) for row in reply.splitlines()]
    split = next((i for i, row in enumerate(rows) if _SEPARATOR.fullmatch(row)), None)
    main = [row for row in (rows if split is None else rows[:split]) if row]
    problems: list[Problem] = []
    texts = _parse_block(main, line_count, False, problems) if main else {}
    seconds: dict[int, str] = {}
    if split is not None:
        block = [row for row in rows[split + 1 :] if row]
        if block:
            seconds = _parse_block(block, line_count, True, problems)
        else:
            problems.append(problem(None, "no_second_lines"))
    elif not main:
        problems.append(problem(None, "no_lines"))
    if problems:
        raise CorrectionError(sorted(problems, key=lambda p: (p.line is not None, p.line or 0)))
    return Correction(MappingProxyType(texts), MappingProxyType(seconds))


def apply_correction(lines: Sequence[LyricLine], correction: Correction) -> tuple[LyricLine, ...]:
    """The lines with the corrected texts; a line whose text is unchanged is returned as is.

    An edited line keeps its start and end; with as many words as before each word keeps its own
    timing, otherwise the new words share the span in proportion to their length in graphemes
    (a run of CJK characters is one word per character, as the display joins them). Second lines
    are not part of `LyricLine`: see `second_lines`.
    """
    if unknown := sorted(n for n in correction.texts if not 1 <= n <= len(lines)):
        raise CorrectionError(problem(n, "unknown_line", number=n) for n in unknown)
    texts = {n: _clean(text) for n, text in correction.texts.items()}
    if empty := sorted(n for n, text in texts.items() if not split_words(text)):
        raise CorrectionError(problem(n, "empty") for n in empty)
    result: list[LyricLine] = []
    for number, line in enumerate(lines, start=1):
        text = texts.get(number)
        result.append(line if text is None or text == line.text else retimed(line, text))
    return tuple(result)


def second_lines(correction: Correction, line_count: int) -> tuple[str | None, ...]:
    """The second line of each lyric line (None where none was given), in line order."""
    return tuple(correction.second_lines.get(n) for n in range(1, line_count + 1))


def retimed(line: LyricLine, text: str) -> LyricLine:
    """`line` showing `text`, inside the same start and end."""
    pieces = split_words(_clean(text))
    if not pieces:
        raise ValueError("an edited line cannot be empty")
    old = line.words
    if len(pieces) == len(old):
        return LyricLine(
            tuple(dataclasses.replace(w, text=p) for w, p in zip(old, pieces, strict=True))
        )
    start, end = line.start, line.end
    weights = [max(grapheme_count(piece), 1) for piece in pieces]
    total = sum(weights)
    bounds = [start]
    running = 0
    for weight in weights[:-1]:
        running += weight
        bounds.append(min(max(round(start + (end - start) * running / total, 2), start), end))
    bounds.append(end)
    first = old[0]
    success = all(w.success for w in old)
    words = tuple(
        AlignedWord(
            piece,
            bounds[i],
            bounds[i + 1],
            success,
            0.0,
            first.tags if i == 0 else (),
            first.break_before if i == 0 else False,
        )
        for i, piece in enumerate(pieces)
    )
    return LyricLine(words)


def split_words(text: str) -> list[str]:
    """Words of a typed line: split at spaces, and between two East Asian wide characters."""
    words: list[str] = []
    for token in text.split():
        current = ""
        for cluster in graphemes(token):
            if current and _is_wide(current[-1]) and _is_wide(cluster[0]):
                words.append(current)
                current = ""
            current += cluster
        words.append(current)
    return words


def graphemes(text: str) -> list[str]:
    """User-perceived characters, closely enough for timing: combining marks, variation
    selectors, skin tones and ZWJ sequences stay with their base; flags are pairs."""
    clusters: list[str] = []
    for char in text:
        if clusters and (
            _extends(char) or clusters[-1].endswith(_ZWJ) or _pairs_flag(clusters[-1], char)
        ):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def grapheme_count(text: str) -> int:
    """How many user-perceived characters `text` has."""
    return len(graphemes(text))


def _extends(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in {"Mn", "Me", "Mc"}
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _pairs_flag(previous: str, char: str) -> bool:
    return len(previous) == 1 and _regional(previous) and _regional(char)


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in {"W", "F"}


def _parse_block(
    rows: list[str], line_count: int, second: bool, problems: list[Problem]
) -> dict[int, str]:
    matches = [_NUMBERED.fullmatch(row) for row in rows]
    numbered = [m for m in matches if m is not None]
    if len(numbered) == len(rows):
        return _parse_numbered(numbered, line_count, second, problems)
    if len(rows) == line_count:
        # The whole list by position; a row's number prefix is dropped where it is its position.
        result: dict[int, str] = {}
        for position, (row, match) in enumerate(zip(rows, matches, strict=True), start=1):
            own = match is not None and _number(match) == position and match.group(2).strip()
            result[position] = match.group(2).strip() if match is not None and own else row
        return result
    if not numbered:
        key = "second_row_count" if second else "row_count"
        problems.append(problem(None, key, given=len(rows), count=line_count))
        return {}
    for row, match in zip(rows, matches, strict=True):
        if match is None:
            problems.append(problem(None, "no_number", row=_quote(row)))
    return {}


def _parse_numbered(
    matches: list[re.Match[str]], line_count: int, second: bool, problems: list[Problem]
) -> dict[int, str]:
    result: dict[int, str] = {}
    seen: set[int] = set()
    for match in matches:
        number, text = _number(match), match.group(2).strip()
        if not 1 <= number <= line_count:
            key = "no_such_second_line" if second else "no_such_line"
            problems.append(problem(number, key, number=number, count=line_count))
        elif number in seen:
            problems.append(problem(number, "second_twice" if second else "twice"))
        elif not text:
            problems.append(problem(number, "second_empty" if second else "empty"))
        else:
            result[number] = text
        seen.add(number)
    return result


def _number(match: re.Match[str]) -> int:
    return int(match.group(1))


def _clean(text: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def _quote(row: str, limit: int = 40) -> str:
    return row if len(row) <= limit else row[: limit - 1] + "…"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_prefix(text: str, limit: int) -> str:
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > limit:
            return text[:index]
    return text


__all__ = [
    "PROBLEMS",
    "TELEGRAM_TEXT_LIMIT",
    "Correction",
    "CorrectionError",
    "Problem",
    "apply_correction",
    "grapheme_count",
    "graphemes",
    "numbered_text",
    "parse_correction",
    "problem",
    "retimed",
    "second_lines",
    "split_words",
]
