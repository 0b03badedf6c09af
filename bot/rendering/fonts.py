"""Which scripts (Latin, Cyrillic, CJK) ffmpeg's drawtext can render, found through fontconfig.

drawtext takes one font family per text and has no glyph fallback, so this module also picks,
per text, a family that covers its scripts. A missing font is a warning, never an error.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.rendering.errors import RenderError
from bot.rendering.filter_syntax import filter_value
from bot.rendering.runner import Ffmpeg

# Python packages that ship a font file; their folder is added to fontconfig's search path so
# a fresh machine (and CI) renders CJK without apt (README, "Fonts").
FONT_PACKAGES = ("noto_cjk_sans_jp_regular",)
SYSTEM_CONFIG = Path("/etc/fonts/fonts.conf")
DETECT_TIMEOUT_SECONDS = 60.0  # the first run may build fontconfig's cache


class Script(StrEnum):
    """Writing systems the renderer promises to draw."""

    LATIN = "Latin"
    CYRILLIC = "Cyrillic"
    CJK = "CJK"


SAMPLES = {
    Script.LATIN: "Hamburg",
    Script.CYRILLIC: "Жёлтый",
    Script.CJK: "漢字かな한",
}
CANDIDATES = {
    Script.LATIN: ("Sans", "DejaVu Sans", "Noto Sans"),
    Script.CYRILLIC: ("Sans", "DejaVu Sans", "Noto Sans"),
    Script.CJK: (
        "Noto Sans CJK JP",
        "Noto Sans CJK SC",
        "Noto Sans CJK TC",
        "Noto Sans CJK KR",
        "Source Han Sans",
        "WenQuanYi Zen Hei",
        "Droid Sans Fallback",
    ),
}
# A code point no font draws (plane 16 private use): it always shows the font's "missing" glyph.
_MISSING = "\U0010fffd"
_ROW = 48


def script_of(char: str) -> Script | None:
    """The script of one character, for the three we track."""
    code = ord(char)
    if 0x0400 <= code <= 0x052F:
        return Script.CYRILLIC
    if (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x3FFFF
        or 0x1100 <= code <= 0x11FF
    ):
        return Script.CJK
    if char.isalpha() and code < 0x0250:
        return Script.LATIN
    return None


@dataclass(frozen=True, slots=True)
class FontReport:
    """The family that draws each script (None = it shows as boxes) and the fontconfig env."""

    families: dict[Script, str | None]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> list[Script]:
        """Scripts no installed font draws."""
        return [script for script in Script if self.families.get(script) is None]

    @property
    def warning(self) -> str | None:
        """One log line naming the scripts that would show as boxes, or None."""
        if not self.missing:
            return None
        names = ", ".join(script.value for script in self.missing)
        return (
            f"no font for {names}: such text in rendered videos will show as boxes "
            "(install fonts-noto-core and fonts-noto-cjk, or the noto-cjk-sans-jp-regular "
            "Python package)"
        )

    def family_for(self, text: str) -> str:
        """A family that draws every tracked script in `text` (best effort)."""
        present = {script_of(ch) for ch in text} - {None}
        for script in (Script.CJK, Script.CYRILLIC, Script.LATIN):
            family = self.families.get(script)
            if script in present and family:
                return family
        return self.families.get(Script.LATIN) or "Sans"


def fontconfig_config(cache_dir: Path, font_dirs: list[Path]) -> str:
    """A fontconfig file: the system's (or $FONTCONFIG_FILE's) setup plus extra font folders."""
    base = Path(os.environ.get("FONTCONFIG_FILE", SYSTEM_CONFIG))
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        "<fontconfig>",
        f'  <include ignore_missing="yes">{_xml(str(base))}</include>',
        *(f"  <dir>{_xml(str(folder))}</dir>" for folder in font_dirs),
        f"  <cachedir>{_xml(str(cache_dir))}</cachedir>",
        "</fontconfig>",
    ]
    return "\n".join(lines) + "\n"


def bundled_font_dirs() -> list[Path]:
    """Folders of installed font packages (found without importing them)."""
    folders: list[Path] = []
    for name in FONT_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders.extend(Path(p) for p in spec.submodule_search_locations)
    return folders


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_fontconfig(folder: Path, font_dirs: list[Path]) -> dict[str, str]:
    """Write the fontconfig file into `folder`; the environment ffmpeg must run with."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "fonts.conf"
    config.write_text(fontconfig_config(folder / "cache", font_dirs), encoding="utf-8")
    return {"FONTCONFIG_FILE": str(config)}


def _detection_rows(folder: Path) -> tuple[list[tuple[Script, str]], str, int]:
    """Write the sample texts; the graph drawing each candidate's sample and missing glyphs."""
    rows = [(script, family) for script in Script for family in CANDIDATES[script]]
    filters = []
    for i, (script, family) in enumerate(rows):
        sample = SAMPLES[script]
        for j, text in enumerate((sample, _MISSING * len(sample))):
            path = folder / f"sample-{i}-{j}.txt"
            path.write_text(text, encoding="utf-8")
            filters.append(
                f"drawtext=font={filter_value(family)}:textfile={filter_value(str(path))}"
                f":expansion=none:fontsize=32:fontcolor=white:x=4:y={(2 * i + j) * _ROW + 4}"
            )
    height = 2 * len(rows) * _ROW
    graph = f"color=black:s=320x{height},format=gray," + ",".join(filters)
    return rows, graph, height


def _judge(rows: list[tuple[Script, str]], gray: bytes) -> dict[Script, str | None]:
    band = 320 * _ROW
    families: dict[Script, str | None] = dict.fromkeys(Script)
    for i, (script, family) in enumerate(rows):
        sample = gray[2 * i * band : (2 * i + 1) * band]
        missing = gray[(2 * i + 1) * band : (2 * i + 2) * band]
        drawn = sum(1 for value in sample if value > 128)
        if families[script] is None and drawn > 20 and sample != missing:
            families[script] = family
    return families


async def detect_fonts(
    ffmpeg: Ffmpeg, folder: Path, font_dirs: list[Path] | None = None
) -> FontReport:
    """Render each script's sample with each candidate family and keep the ones that draw.

    `folder` receives the generated fontconfig file; `font_dirs` defaults to the folders of
    the installed font packages (FONT_PACKAGES).
    """
    dirs = bundled_font_dirs() if font_dirs is None else font_dirs
    env = await asyncio.to_thread(write_fontconfig, folder, dirs)
    probe = Ffmpeg(ffmpeg.binary, {**ffmpeg.env, **env}, ffmpeg.niceness)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        rows, graph, height = await asyncio.to_thread(_detection_rows, Path(scratch))
        try:
            done = await probe.run(
                [
                    *("-f", "lavfi", "-i", graph, "-frames:v", "1"),
                    "-f",
                    "rawvideo",
                    "-pix_fmt",
                    "gray",
                    "pipe:1",
                ],
                time_limit=DETECT_TIMEOUT_SECONDS,
            )
        except (RenderError, OSError):  # no usable font or no ffmpeg at all: all boxes
            return FontReport(dict.fromkeys(Script), env)
    if len(done.stdout) != 320 * height:
        return FontReport(dict.fromkeys(Script), env)
    return FontReport(_judge(rows, done.stdout), env)
