"""Facts of an uploaded audio file: duration, title and artist tags, embedded cover art."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.rendering.errors import BadInput
from bot.rendering.layout import clean_text
from bot.rendering.probe import probe
from bot.rendering.runner import Ffmpeg

_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class AudioFileFacts:
    """What the renderer takes from an uploaded file; `cover` is None without embedded art."""

    duration: float
    title: str
    artist: str | None
    cover: Path | None


def parse_ffmetadata(text: str) -> dict[str, str]:
    """Global tags of an `-f ffmetadata` file (keys lower-cased; escapes undone)."""
    tags: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if line.startswith("["):  # [STREAM] / [CHAPTER] sections follow the global tags
            break
        if line.startswith((";", "#")) or "=" not in line:
            continue
        entry = line
        while _ends_with_escape(entry):  # an escaped line break continues the value
            entry = entry[:-1] + "\n" + next(lines, "")
        key, value = _split_entry(entry)
        tags.setdefault(key.lower(), value)
    return tags


def _ends_with_escape(text: str) -> bool:
    trailing = len(text) - len(text.rstrip("\\"))
    return trailing % 2 == 1


def _split_entry(entry: str) -> tuple[str, str]:
    key: list[str] = []
    value: list[str] = []
    target, escaped = key, False
    for ch in entry:
        if escaped:
            target.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "=" and target is key:
            target = value
        else:
            target.append(ch)
    return "".join(key), "".join(value)


def _read_and_remove(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    path.unlink()
    return text


def title_from_file_name(name: str) -> str:
    """A readable title from a file name: no extension, underscores as spaces."""
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return clean_text(stem.replace("_", " ")) or "Untitled"


async def read_audio_file(
    ffmpeg: Ffmpeg, path: Path, *, file_name: str, workdir: Path
) -> AudioFileFacts:
    """Probe `path`; extract its tags and cover art (written into `workdir`)."""
    info = await probe(ffmpeg, path)
    if info.audio is None or not info.duration:
        raise BadInput("the file has no audio")
    meta = workdir / "tags.txt"
    await ffmpeg.run(
        ["-y", "-loglevel", "error", "-i", str(path), "-f", "ffmetadata", str(meta)],
        time_limit=_TIMEOUT,
    )
    tags = parse_ffmetadata(await asyncio.to_thread(_read_and_remove, meta))
    cover = None
    if info.cover is not None:
        cover = workdir / "embedded-cover.png"
        await ffmpeg.run(
            [
                *("-y", "-loglevel", "error", "-i", str(path), "-map", f"0:{info.cover.index}"),
                *("-frames:v", "1", "-f", "image2", "-c:v", "png", str(cover)),
            ],
            time_limit=_TIMEOUT,
        )
    title = clean_text(tags.get("title", "")) or title_from_file_name(file_name)
    artist = clean_text(tags.get("artist", "")) or None
    return AudioFileFacts(duration=info.duration, title=title, artist=artist, cover=cover)
