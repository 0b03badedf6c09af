"""Generated test tracks with a known beat grid: kicks on the beats, off-beat hi-hats, bass, pads.

The hi-hats are loud on purpose: a tracker listening to the full band locks onto them and finds
the beats half a period off (issue 18). Written as 16-bit mono WAV with the standard library.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 22050
Samples = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Track:
    """A generated track and its ground truth (seconds)."""

    samples: Samples
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / RATE

    def write(self, path: Path) -> Path:
        """Save as 16-bit mono WAV; returns `path`."""
        pcm = np.clip(self.samples, -1.0, 1.0)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes((pcm * 32000).astype("<i2").tobytes())
        return path


def _add(track: Samples, at: float, sound: Samples) -> None:
    start = round(at * RATE)
    end = min(len(track), start + len(sound))
    if start < end:
        track[start:end] += sound[: end - start]


def _kick(gain: float) -> Samples:
    t = np.arange(int(0.25 * RATE)) / RATE
    pitch = 50.0 + 90.0 * np.exp(-t / 0.03)  # a falling sine: the classic electronic kick
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    return gain * np.sin(phase) * np.exp(-t / 0.09)


def _hat(rng: np.random.Generator, gain: float) -> Samples:
    noise = rng.standard_normal(int(0.06 * RATE) + 3)
    bright = np.diff(noise, n=3)  # third difference, 18 dB/octave: a real hat has no low end
    bright /= 4.0  # about the kick's level up high
    return gain * bright * np.exp(-np.arange(len(bright)) / RATE / 0.015)


def _tone(freqs: tuple[float, ...], seconds: float, attack: float, gain: float) -> Samples:
    t = np.arange(int(seconds * RATE)) / RATE
    body = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    envelope = np.minimum(1.0, t / attack) * np.minimum(1.0, (seconds - t) / 0.05)
    return gain * np.asarray(body) * envelope


CHORDS = (
    (220.0, 277.2, 329.6),
    (196.0, 246.9, 293.7),
    (174.6, 220.0, 261.6),
    (196.0, 246.9, 329.6),
)
ROOTS = (55.0, 49.0, 43.7, 49.0)


def beat_track(bpm: float, seconds: float, *, start: float = 0.35, seed: int = 1) -> Track:
    """Kick on every beat (louder on the bar's first), hi-hats between, bass on beats 1 and 3."""
    rng = np.random.default_rng(seed)
    period = 60.0 / bpm
    track = np.zeros(int(seconds * RATE))
    beats = np.arange(start, seconds - 0.3, period)
    for index, at in enumerate(beats):
        downbeat = index % 4 == 0
        _add(track, at, _kick(0.75 if downbeat else 0.5))
        _add(track, at + period / 2, _hat(rng, 0.9))  # off-beat, louder than the kick up high
        if index % 2 == 0:
            root = ROOTS[(index // 4) % len(ROOTS)]
            _add(track, at, _tone((root,), 2 * period * 0.9, 0.01, 0.25))
        if downbeat:
            chord = CHORDS[(index // 4) % len(CHORDS)]
            _add(track, at, _tone(chord, 4 * period, 0.2, 0.12))
    track += 0.003 * rng.standard_normal(len(track))
    return Track(track, tuple(map(float, beats)), tuple(map(float, beats[::4])))


def pad_track(seconds: float, *, chord_seconds: float = 2.0, seed: int = 2) -> Track:
    """Drumless: slow-attack pad chords and a soft bass drone, no beat to follow."""
    rng = np.random.default_rng(seed)
    track = np.zeros(int(seconds * RATE))
    at, index = 0.0, 0
    while at < seconds:
        # Rubato: each chord a little longer or shorter, as a free-time ballad would play it.
        length = chord_seconds * float(rng.uniform(0.8, 1.3))
        _add(track, at, _tone(CHORDS[index % len(CHORDS)], length + 0.4, 0.6, 0.3))
        _add(track, at, _tone((ROOTS[index % len(ROOTS)],), length + 0.4, 0.8, 0.15))
        at += length
        index += 1
    track += 0.003 * rng.standard_normal(len(track))
    return Track(track, (), ())


def ballad_track(seconds: float, *, rubato: float = 0.1, bpm: float = 66.0, seed: int = 3) -> Track:
    """Piano-like chords with sharp attacks in free time: the tempo wanders and each note is
    placed up to `rubato` early or late. Every note is an onset, but there is no steady pulse."""
    rng = np.random.default_rng(seed)
    track = np.zeros(int(seconds * RATE))
    at, index, period = 0.3, 0, 60.0 / bpm
    decay = np.exp(-np.arange(int(1.5 * RATE)) / RATE / 0.5)
    while at < seconds - 1.0:
        period = min(max(period * float(np.exp(rng.normal(0.0, rubato / 2))), 60 / 90), 60 / 45)
        bar = (index // 4) % len(CHORDS)
        _add(track, at, _tone((ROOTS[bar] * 2,), 1.5, 0.005, 0.25) * decay)
        _add(track, at, _tone(CHORDS[bar], 1.0, 0.005, 0.15))
        at += period * float(rng.uniform(1 - rubato, 1 + rubato))
        index += 1
    return Track(track + 0.003 * rng.standard_normal(len(track)), (), ())


def ambient_track(seconds: float, *, seed: int = 4) -> Track:
    """Swelling low noise over a slowly breathing 55 Hz drone: no onsets to speak of."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.cumsum(rng.standard_normal(len(t)))  # brown noise, its drift taken out below
    noise -= np.convolve(noise, np.ones(200) / 200, "same")
    swell = 0.5 + 0.5 * np.sin(2 * np.pi * t / 7.3) * np.sin(2 * np.pi * t / 3.1)
    drone = np.sin(2 * np.pi * 55.0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * t / 11.0))
    return Track(0.02 * noise * swell + 0.2 * drone, (), ())
