"""Font detection through fontconfig: what renders, what would be boxes, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rendering.fonts import FontReport, Script, bundled_font_dirs, detect_fonts
from bot.rendering.runner import Ffmpeg
from tests.rendering.conftest import FFMPEG

EMPTY_CONFIG = (
    '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
    "<fontconfig></fontconfig>\n"
)


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fontconfig setup that knows no font at all (a bare machine)."""
    empty = tmp_path / "empty.conf"
    empty.write_text(EMPTY_CONFIG)
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))


def test_the_bundled_cjk_package_is_installed() -> None:
    folders = bundled_font_dirs()
    assert folders
    assert any(folder.glob("*.otf") for folder in folders)


async def test_this_machine_draws_all_three_scripts(font_report: FontReport) -> None:
    assert font_report.families[Script.LATIN]
    assert font_report.families[Script.CYRILLIC]
    assert font_report.families[Script.CJK] == "Noto Sans CJK JP"
    assert font_report.warning is None


@pytest.mark.usefixtures("no_system_fonts")
async def test_no_fonts_at_all_is_a_warning_naming_every_script(tmp_path: Path) -> None:
    report = await detect_fonts(Ffmpeg(FFMPEG), tmp_path / "fc", font_dirs=[])
    assert report.missing == [Script.LATIN, Script.CYRILLIC, Script.CJK]
    assert report.warning is not None
    assert "Latin, Cyrillic, CJK" in report.warning
    assert report.family_for("anything") == "Sans"


@pytest.mark.usefixtures("no_system_fonts")
async def test_only_the_cjk_font_draws_every_script(tmp_path: Path) -> None:
    report = await detect_fonts(Ffmpeg(FFMPEG), tmp_path / "fc")
    assert report.missing == []


async def test_system_fonts_without_the_package_show_cjk_as_boxes(tmp_path: Path) -> None:
    report = await detect_fonts(Ffmpeg(FFMPEG), tmp_path / "fc", font_dirs=[])
    if report.families[Script.CJK] is not None:
        pytest.skip("this machine has a system CJK font")  # e.g. the Docker image
    assert report.missing == [Script.CJK]
    assert report.warning is not None
    assert report.warning.startswith("no font for CJK:")


async def test_a_missing_ffmpeg_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    report = await detect_fonts(Ffmpeg(tmp_path / "no-ffmpeg"), tmp_path / "fc")
    assert report.missing == list(Script)


def test_family_for_picks_a_font_that_covers_the_text() -> None:
    report = FontReport(
        {Script.LATIN: "Sans", Script.CYRILLIC: "Cyr Sans", Script.CJK: "Noto Sans CJK JP"}
    )
    assert report.family_for("Hello") == "Sans"
    assert report.family_for("Привет") == "Cyr Sans"
    assert report.family_for("Привет 漢字") == "Noto Sans CJK JP"
    assert report.family_for("한국어") == "Noto Sans CJK JP"
    partial = FontReport({Script.LATIN: "Sans", Script.CYRILLIC: "Sans", Script.CJK: None})
    assert partial.family_for("漢字 abc") == "Sans"
