"""Music analysis on generated tracks, decoded by the real ffmpeg (issue 18 item 1).

Ground truth comes from the generator (tests/music/tracks.py): kicks on the beats, louder on
each bar's first, and loud off-beat hi-hats that a full-band tracker would follow.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lyrics.model import WordToken, aligned_lyrics
from bot.music.analysis import PULSE_CONFIDENCE, RATE, envelopes, track_beats
from bot.music.sections import CHORUS, INTRO, OUTRO, PRE_CHORUS, VERSE, section_kind
from bot.music.track import TrackAnalysis, analyse_samples, analyse_track
from bot.rendering.runner import Ffmpeg
from tests.music.tracks import Track, ambient_track, ballad_track, beat_track, pad_track

FFMPEG = Ffmpeg(Path(imageio_ffmpeg.get_ffmpeg_exe()), niceness=0)
TOLERANCE = 0.07


def f_measure(found: tuple[float, ...], truth: tuple[float, ...], tolerance: float) -> float:
    """Beat F-measure: each true beat matched by at most one found beat within `tolerance`."""
    unused = list(found)
    hits = 0
    for beat in truth:
        near = [t for t in unused if abs(t - beat) <= tolerance]
        if near:
            unused.remove(min(near, key=lambda t: abs(t - beat)))
            hits += 1
    if not found or not truth or not hits:
        return 0.0
    precision, recall = hits / len(found), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def analyse(
    track: Track, folder: Path, lyrics_tokens: list[WordToken] | None = None
) -> TrackAnalysis:
    path = track.write(folder / "track.wav")
    lyrics = aligned_lyrics(lyrics_tokens) if lyrics_tokens is not None else None
    return asyncio.run(analyse_track(FFMPEG, path, lyrics))


@pytest.mark.parametrize("bpm", [90, 128, 150])
def test_beats_with_off_beat_hats(bpm: int, tmp_path: Path) -> None:
    track = beat_track(bpm, 30.0, seed=bpm)
    found = analyse(track, tmp_path)

    score = f_measure(found.beats, track.beats, TOLERANCE)
    assert score >= 0.95, (bpm, score, found.beats[:8], track.beats[:8])
    assert found.tempo == pytest.approx(bpm, rel=0.02)
    assert found.pulse
    assert f_measure(found.downbeats, track.downbeats, TOLERANCE) >= 0.9


def test_full_band_onsets_follow_the_hats(tmp_path: Path) -> None:
    """Why we listen low: the same tracker on the full band's flux lands between the beats."""
    track = beat_track(128, 30.0)
    path = track.write(tmp_path / "track.wav")
    pcm = asyncio.run(
        FFMPEG.run(
            ["-i", str(path), "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"], time_limit=30
        )
    ).stdout
    samples = np.frombuffer(pcm, "<f4").astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(samples, 512)[::80] * np.hanning(512)
    spectrum = 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10)
    full_band = np.maximum(np.diff(spectrum, axis=0, prepend=spectrum[:1]), 0).mean(axis=1)

    full = track_beats(full_band)
    low = track_beats(envelopes(samples).onset)
    assert f_measure(full.beats, track.beats, TOLERANCE) < 0.5
    assert f_measure(low.beats, track.beats, TOLERANCE) >= 0.95


@pytest.mark.parametrize(
    "track",
    [
        pytest.param(lambda: pad_track(30.0), id="pads"),
        pytest.param(lambda: pad_track(30.0, chord_seconds=1.0), id="pads-every-second"),
        pytest.param(lambda: ballad_track(30.0, rubato=0.1), id="rubato-ballad"),
        pytest.param(lambda: ambient_track(30.0), id="ambient"),
    ],
)
def test_drumless_tracks_have_low_confidence(track: Callable[[], Track], tmp_path: Path) -> None:
    found = analyse(track(), tmp_path)
    assert found.confidence < PULSE_CONFIDENCE
    assert not found.pulse


def test_a_slow_steady_track_is_trusted(tmp_path: Path) -> None:
    """Slowness is not what the confidence measures: 66 BPM on a steady grid keeps its pulse."""
    steady = analyse(beat_track(66.0, 30.0), tmp_path)
    assert steady.tempo == pytest.approx(66.0, rel=0.02)
    assert steady.confidence >= PULSE_CONFIDENCE + 0.2


def test_silence_and_short_audio() -> None:
    silent = analyse_samples(np.zeros(RATE * 10, dtype=np.float32), None)
    assert (silent.beats, silent.confidence, silent.pulse) == ((), 0.0, False)
    short = analyse_samples(np.zeros(100, dtype=np.float32), None)
    assert short.beats == ()
    assert [(s.start, s.end, s.kind) for s in short.sections] == [(0.0, 0.013, VERSE)]
    assert [(s.start, s.end, s.kind) for s in silent.sections] == [(0.0, 10.0, VERSE)]


def test_sections_from_tags_snap_to_downbeats(tmp_path: Path) -> None:
    track = beat_track(128, 60.0)
    period = 60.0 / 128
    # Bars start at 0.35 + 1.875 k s. Words sung a little after the bar starts, or just before
    # (a pickup), as singers do.
    tags = [(6.1, "[Verse 1]"), (21.2, "[Pre-Chorus]"), (28.6, "[Chorus]"), (43.3, "[Chorus]")]
    tokens = [WordToken(f"{tag}\nla", at, at + 0.3) for at, tag in tags]
    tokens += [WordToken("la", at + 1.0, at + 1.3) for at, _ in tags]
    found = analyse(track, tmp_path, tokens)

    assert found.sections_from == "tags"
    kinds = [(s.kind, s.repeat) for s in found.sections]
    assert kinds == [(INTRO, 0), (VERSE, 0), (PRE_CHORUS, 0), (CHORUS, 0), (CHORUS, 1)]
    assert found.sections[0].start == 0.0
    assert found.sections[-1].end == pytest.approx(60.0, abs=0.01)
    for section, (at, _) in zip(found.sections[1:], tags, strict=True):
        nearest = min(track.downbeats, key=lambda t: abs(t - at))
        assert section.start == pytest.approx(nearest, abs=TOLERANCE), (section, at)
        assert abs(section.start - at) <= period * 2
    assert [s.label for s in found.sections[1:]] == ["Verse 1", "Pre-Chorus", "Chorus", "Chorus"]


def test_sections_from_energy(tmp_path: Path) -> None:
    """Quiet pads, loud beat, quiet, loud: boundaries where the level changes."""
    parts = [pad_track(12.0, seed=3), beat_track(128, 16.0), pad_track(12.0, seed=4)]
    parts += [beat_track(128, 16.0, seed=5), pad_track(10.0, seed=6)]
    quiet = [0.5, 1.0, 0.5, 1.0, 0.5]
    samples = np.concatenate([p.samples * gain for p, gain in zip(parts, quiet, strict=True)])
    found = analyse(Track(samples, (), ()), tmp_path)

    assert found.sections_from == "energy"
    assert [s.kind for s in found.sections] == [INTRO, CHORUS, VERSE, CHORUS, OUTRO]
    starts = [s.start for s in found.sections[1:]]
    assert starts == pytest.approx([12.0, 28.0, 40.0, 56.0], abs=1.5)
    assert found.sections[1].energy > 2 * found.sections[0].energy


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("Chorus 2", CHORUS),
        ("Hook", CHORUS),
        ("Pre-Chorus", PRE_CHORUS),
        ("Verse 1", VERSE),
        ("Куплет 2", VERSE),
        ("Intro", INTRO),
        ("Outro", OUTRO),
        ("Bridge", "bridge"),
        ("Guitar Solo", "break"),
        ("Spoken", "other"),
    ],
)
def test_section_kind(tag: str, kind: str) -> None:
    assert section_kind(tag) == kind


def test_json_round_trip(tmp_path: Path) -> None:
    tokens = [WordToken("[Verse]\nhello", 1.0, 1.4), WordToken("[Chorus]\nяркий", 9.0, 9.5)]
    found = analyse(beat_track(128, 16.0), tmp_path, tokens)
    assert found.beats
    again = TrackAnalysis.from_json(found.to_json())
    assert again == found
    assert isinstance(again.sections, tuple)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"v": 1}',
        '{"v":1,"tempo":"fast","beats":[],"downbeats":[],"sections":[],"confidence":0,'
        '"duration":1,"sections_from":"tags"}',
        '{"v":1,"tempo":120,"beats":[NaN],"downbeats":[],"sections":[],"confidence":0,'
        '"duration":1,"sections_from":"tags"}',
        '{"v":1,"tempo":120,"beats":[],"downbeats":[],"sections":[[0,1,"solo","",0,1]],'
        '"confidence":0,"duration":1,"sections_from":"tags"}',
    ],
)
def test_json_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not a stored track analysis"):
        TrackAnalysis.from_json(text)


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=RATE * 12),
    seed=st.integers(min_value=0, max_value=2**16),
    scale=st.sampled_from([0.0, 1e-6, 0.5, 1e6]),
    clicks=st.lists(st.floats(min_value=0.0, max_value=11.9), max_size=30),
    poison=st.booleans(),
)
def test_any_audio_gives_a_well_formed_analysis(
    length: int, seed: int, scale: float, clicks: list[float], poison: bool
) -> None:
    """Noise, clicks, silence, huge or tiny levels, NaN: beats in order inside the track, the
    confidence in 0..1, sections tiling the track, and the JSON form reads back the same."""
    samples = np.random.default_rng(seed).standard_normal(length) * scale
    for at in clicks:
        samples[int(at * RATE) : int(at * RATE) + 40] += 0.9
    if poison and length:
        samples[length // 2] = np.nan
    found = analyse_samples(samples.astype(np.float32), None)

    assert 0.0 <= found.confidence <= 1.0
    assert list(found.beats) == sorted(set(found.beats))
    assert all(0.0 <= t <= found.duration + 0.05 for t in found.beats)
    assert set(found.downbeats) <= set(found.beats)
    if found.sections:
        assert found.sections[0].start == 0.0
        assert found.sections[-1].end == found.duration
        assert all(a.end == b.start for a, b in itertools.pairwise(found.sections))
    assert TrackAnalysis.from_json(found.to_json()) == found
