"""The caption of a channel post, from a user's template (pure; no I/O, no Telegram types).

A template is user text: only the exact placeholders `{title}`, `{author}` and `{tags}` are
filled, in one pass; everything else (`{title.__class__}`, `{0}`, a lone brace) stays as
typed, so no attribute or index lookup ever happens (unlike `str.format`). A line whose
placeholders all came out empty is dropped; the result fits Telegram's caption limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from bot.text.text_limits import CAPTION_LIMIT, shorten

PLACEHOLDERS: Final = ("title", "author", "tags")
DEFAULT_TEMPLATE: Final = "🎬 {title}\n👤 {author}\n{tags}"
TEMPLATE_LIMIT: Final = CAPTION_LIMIT  # characters a user may store
MAX_HASHTAGS: Final = 10
_PLACEHOLDER = re.compile(r"\{(title|author|tags)\}")
_NOT_WORD = re.compile(r"[^\w]+")


def hashtags(tags: str | None) -> str:
    """Style tags as hashtags: "lo-fi hip hop, Rock" → "#lo_fi_hip_hop #rock" (at most 10)."""
    seen: list[str] = []
    for tag in re.split(r"[,;\n]", tags or ""):
        word = "_".join(part for part in _NOT_WORD.split(tag.strip().lower()) if part)
        word = word.strip("_")
        if word and word not in seen:
            seen.append(word)
    return " ".join(f"#{word}" for word in seen[:MAX_HASHTAGS])


def render_caption(template: str | None, values: Mapping[str, str | None]) -> str:
    """`template` (or the default) with the known placeholders filled in; within 1024."""
    lines: list[str] = []
    for line in (template or DEFAULT_TEMPLATE).split("\n"):
        names = _PLACEHOLDER.findall(line)
        filled = _PLACEHOLDER.sub(lambda m: _one_line(values.get(m.group(1))), line)
        if names and not any(_one_line(values.get(name)) for name in names):
            continue  # e.g. "👤 {author}" without an author
        lines.append(filled)
    return shorten("\n".join(lines).strip(), CAPTION_LIMIT)


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())
