"""Looks, pure parts (issue 18 item 3, docs/architecture.md §9.3): `/style`'s argument, the
stored forms, old plans, the buttons, and which visualisation chain the graph gets."""

from __future__ import annotations

import json

import pytest

from bot.domain import Look
from bot.engine.render_plan import BadPlan, RenderPlan, plan_from_json
from bot.rendering import VideoFormat, Visualisation
from bot.rendering.filtergraph import BAR_PITCH, build_filter_graph
from bot.rendering.layout import LAYOUTS
from bot.text.commands import parse_look
from handlers.settings import LOOK_PREFIX, look_markup, look_text
from tests.rendering.test_pure import _plan


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pulse", Look.PULSE),
        (" BARS ", Look.BARS),
        ("Calm", Look.CALM),
        ("disco", None),
        ("", None),
    ],
)
def test_style_arguments(raw: str, expected: Look | None) -> None:
    assert parse_look(raw) is expected


def test_pulse_is_stored_as_null() -> None:
    assert Look.PULSE.stored is None
    assert (Look.BARS.stored, Look.CALM.stored) == ("bars", "calm")
    assert Look.from_stored(None) is Look.PULSE
    assert Look.from_stored("calm") is Look.CALM
    assert Look.from_stored("disco") is Look.PULSE


def test_a_plan_stored_before_looks_reads_as_pulse() -> None:
    plan = RenderPlan("9:16", "T", None, None, audio_url="https://a.example/x.mp3")
    body = json.loads(plan.to_json())
    assert body["look"] == "pulse"
    del body["look"]
    assert plan_from_json(json.dumps(body)).look == "pulse"
    assert plan_from_json(json.dumps({**body, "look": "bars"})).look == "bars"
    with pytest.raises(BadPlan):
        plan_from_json(json.dumps({**body, "look": "disco"}))


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_buttons_tick_the_chats_look(language: str) -> None:
    rows = look_markup(Look.CALM).inline_keyboard
    assert [(b.text, b.callback_data) for b in rows[0]] == [
        ("pulse", f"{LOOK_PREFIX}pulse"),
        ("bars", f"{LOOK_PREFIX}bars"),
        ("✓ calm", f"{LOOK_PREFIX}calm"),
    ]
    shown = look_text(language, Look.CALM)
    assert ": calm" in shown
    assert all(f"{look.value} — " in shown for look in Look)


def test_bars_replace_the_waveform_in_the_graph() -> None:
    waves = build_filter_graph(_plan())
    assert "showwaves=" in waves
    assert "showfreqs=" not in waves
    bars = build_filter_graph(_plan(visualisation=Visualisation.BARS))
    assert "showwaves=" not in bars
    vis = LAYOUTS[VideoFormat.VERTICAL].visualisation
    count = -(-vis.width // BAR_PITCH)
    assert f"showfreqs=s={count}x{vis.height}:rate=25" in bars
    assert f"crop={vis.width}:{vis.height}:0:0[waves]" in bars
    assert "colors=0xFA0A14" in bars  # the cover's accent, as the waveform's
    assert bars.split("[waves]")[1:] == waves.split("[waves]")[1:]  # overlaid in the same place
