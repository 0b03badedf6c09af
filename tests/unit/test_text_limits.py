"""Cutting text to Telegram's limits: counted in UTF-16 units, never splitting a character."""

from __future__ import annotations

from bot.text.text_limits import fit, shorten, utf16_length


def test_text_that_fits_is_unchanged() -> None:
    assert shorten("abc", 3) == "abc"
    assert shorten("", 0) == ""


def test_cut_text_ends_in_an_ellipsis_within_the_limit() -> None:
    assert shorten("abcdef", 4) == "abc…"
    assert shorten("ab   cdef", 6) == "ab…"  # no dangling spaces before the ellipsis
    assert shorten("abcdef", 1) == "…"
    assert shorten("abcdef", 0) == ""


def test_length_is_counted_in_utf16_units_and_no_pair_is_split() -> None:
    assert utf16_length("🎬a") == 3
    cut = shorten("🎬" * 10, 6)
    assert cut == "🎬🎬…"
    assert utf16_length(cut) <= 6
    cut.encode("utf-8")  # no lone surrogate


def test_fit_cuts_only_the_given_part() -> None:
    def render(part: str) -> str:
        return f"<{part}> https://cdn.test/v.mp4 2025-01-16"

    whole = fit(render, "x" * 100, 50)
    assert utf16_length(whole) == 50
    assert whole.endswith("…> https://cdn.test/v.mp4 2025-01-16")
    assert fit(render, "short", 50) == render("short")
