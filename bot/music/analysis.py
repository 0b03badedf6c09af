"""Beats from decoded PCM: a low-band onset envelope, tempo, beat phase, downbeats, confidence.

Pure numpy, no I/O (docs/architecture.md §9.1). The steps follow the classic dynamic-programming
beat tracker (the method of librosa's `beat_track`), on an onset envelope taken below ~200 Hz
only: off-beat hi-hats and cymbals are louder than the kick up high, and a full-band detector
locks onto them half a beat off.

1. STFT (512 points at 8 kHz, hop 10 ms); spectral flux of the log power of the bins up
   to 200 Hz -> onset envelope, 100 values a second; the full-band RMS per frame as a by-product.
2. Tempo: autocorrelation of the envelope, weighted by a log-normal prior around 120 BPM,
   refined between lags by a parabola; the double tempo when the half lag is nearly as periodic.
3. Beats: dynamic programming over the smoothed envelope, each step rewarded for landing on an
   onset and penalised for straying from the period (tightness 100, as librosa's default).
4. Downbeats: the bar phase (4/4) whose beats carry the strongest low-band accents, kept only
   when it stands out.
5. Confidence in 0..1 from how much stronger the envelope is on the beats than between them,
   how periodic it is and how steady the beat intervals are; below PULSE_CONFIDENCE a track
   gets no beat motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

RATE = 8000  # the decode rate (bot/rendering/pcm.py PCM_RATE)
N_FFT = 512  # 64 ms: 15.6 Hz bins, fine enough below 200 Hz
HOP = 80  # 10 ms: 100 envelope frames a second
FPS = RATE / HOP
LOW_HZ = 200.0
FLOOR_DB = 50.0  # changes quieter than this below the loudest low note are ignored
FLOOR = 10 ** (-FLOOR_DB / 10)
MIN_BPM, MAX_BPM = 50.0, 220.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
TIGHTNESS = 100.0
HALF_LAG_RATIO = 0.7
DOUBLE_MAX_BPM = 185.0
BAR = 4
# The flux rises as an attack enters the 64 ms window, a frame before the attack itself: the
# median lead measured on the generated tracks of tests/music.
LATENCY_SECONDS = 0.01
PULSE_CONFIDENCE = 0.6  # docs/architecture.md §9.1: what generated tracks score
PERIODIC_FROM, PERIODIC_AT = 0.1, 0.5
STEADY_UP_TO, UNSTEADY_AT = 0.015, 0.08
DOWNBEAT_CONTRAST = 0.25  # how much the bar's first beat must stand out (in envelope std)
_CHUNK = 1024  # STFT frames per block: bounds the memory of one rfft


@dataclass(frozen=True, slots=True)
class Envelopes:
    """Per-frame (1 / FPS s) low-band onset strength and full-band RMS level."""

    onset: Floats
    rms: Floats


@dataclass(frozen=True, slots=True)
class Beats:
    """What the tracker found; times in seconds."""

    tempo: float
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]
    confidence: float


def envelopes(samples: Floats) -> Envelopes:
    """Onset strength below LOW_HZ and RMS of `samples` (mono at RATE), one value per HOP."""
    if len(samples) < N_FFT:
        return Envelopes(np.zeros(0), np.zeros(0))
    padded = np.pad(samples, (N_FFT // 2, N_FFT // 2))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = np.hanning(N_FFT)
    low = np.arange(1, int(LOW_HZ * N_FFT / RATE) + 1)  # bins 1..12: 15.6-187.5 Hz
    magnitudes = np.empty((len(frames), len(low)))
    power = np.empty(len(frames))
    for start in range(0, len(frames), _CHUNK):
        spectrum = np.fft.rfft(frames[start : start + _CHUNK] * window, axis=1)
        squared = spectrum.real**2 + spectrum.imag**2
        magnitudes[start : start + _CHUNK] = squared[:, low]
        power[start : start + _CHUNK] = squared.sum(axis=1)
    peak = float(magnitudes.max())
    if peak <= 0.0:
        return Envelopes(np.zeros(len(frames)), np.zeros(len(frames)))
    decibels = 10.0 * np.log10(np.maximum(magnitudes, peak * FLOOR))
    flux = np.maximum(np.diff(decibels, axis=0, prepend=decibels[:1]), 0.0).mean(axis=1)
    rms = np.sqrt(power / (N_FFT * float((window**2).sum())))
    return Envelopes(flux, rms)


def track_beats(onset: Floats) -> Beats:
    """Tempo, beats, downbeats and confidence from a low-band onset envelope."""
    seconds = len(onset) / FPS
    none = Beats(0.0, (), (), 0.0)
    if seconds < 4.0 or float(onset.std()) <= 0.0:
        return none
    normalised = onset / onset.std()
    period, periodicity = estimate_period(normalised)
    if period <= 0.0:
        return none
    frames = dp_beats(normalised, period)
    if len(frames) < 4:
        return none
    confidence = _confidence(normalised, frames, periodicity)
    beats = frames / FPS + LATENCY_SECONDS
    downbeats = _downbeats(normalised, frames)
    return Beats(
        round(60.0 * FPS / period, 2),
        tuple(round(float(t), 3) for t in beats),
        tuple(round(float(t), 3) for t in downbeats),
        round(confidence, 3),
    )


def estimate_period(onset: Floats) -> tuple[float, float]:
    """(beat period in frames, normalised autocorrelation there) by a prior-weighted ACF."""
    centred = onset - onset.mean()
    size = 1 << (2 * len(centred) - 1).bit_length()
    spectrum = np.fft.rfft(centred, size)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: len(centred)]
    if acf[0] <= 0.0:
        return 0.0, 0.0
    acf /= acf[0]
    low, high = int(FPS * 60.0 / MAX_BPM), math.ceil(FPS * 60.0 / MIN_BPM)
    if high + 1 >= len(acf):
        return 0.0, 0.0
    lags = np.arange(low, high + 1)
    bpm = 60.0 * FPS / lags
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    best = int(lags[np.argmax(np.maximum(acf[lags], 0.0) * prior)])
    # A bar-level accent makes twice the period look as periodic as the beat: take the double
    # tempo when the half lag is nearly as periodic (a peak there, not a slope).
    # Not past DOUBLE_MAX_BPM: there an off-beat bass line is likelier than the beat.
    half = round(best / 2)
    if half - 2 >= low and 60.0 * FPS / half <= DOUBLE_MAX_BPM:
        near = int(np.argmax(acf[half - 2 : half + 3])) + half - 2
        if acf[near] >= HALF_LAG_RATIO * acf[best] and acf[near - 1] <= acf[near] >= acf[near + 1]:
            best = near
    before, at, after = acf[best - 1], acf[best], acf[best + 1]
    curvature = before - 2 * at + after
    shift = 0.5 * (before - after) / curvature if curvature < 0 else 0.0
    return best + float(np.clip(shift, -0.5, 0.5)), float(at)


def dp_beats(onset: Floats, period: float) -> npt.NDArray[np.int64]:
    """Beat frames: the best path through the envelope with steps near `period` frames."""
    width = max(1, round(period))
    offsets = np.arange(-width, width + 1)
    smoothing = np.exp(-0.5 * (offsets * 32.0 / period) ** 2)
    local = np.convolve(onset, smoothing, "same")
    steps = np.arange(max(1, round(period / 2)), round(2 * period) + 1)  # gap to previous beat
    penalty = -TIGHTNESS * np.log(steps / period) ** 2
    size = len(local)
    score = np.zeros(size)
    back = np.full(size, -1, dtype=np.int64)
    started = local > 0.01 * local.max()
    first = int(np.argmax(started))
    score[: first + 1] = local[: first + 1]
    block = int(steps[0])  # a frame depends only on frames at least `block` earlier
    for start in range(first + 1, size, block):
        frames = np.arange(start, min(start + block, size))
        previous = frames[:, None] - steps[None, :]
        valid = previous >= 0
        candidates = np.where(valid, score[np.maximum(previous, 0)] + penalty, -np.inf)
        pick = np.argmax(candidates, axis=1)
        best = candidates[np.arange(len(frames)), pick]
        has = np.isfinite(best)
        score[frames] = local[frames] + np.where(has, best, 0.0)
        back[frames] = np.where(has, previous[np.arange(len(frames)), pick], -1)
    # The path ends at the best score of the last two periods: a later frame only adds a penalty
    # unless it lands on an onset. (Taking the last local maximum can skip the last beat.)
    tail = max(first + 1, size - 2 * width)
    if tail >= size:
        return np.zeros(0, dtype=np.int64)
    last = tail + int(np.argmax(score[tail:]))
    path = [last]
    while back[path[-1]] >= 0:
        path.append(int(back[path[-1]]))
    beats = np.array(path[::-1], dtype=np.int64)
    return _trim(local, beats)


def _trim(local: Floats, beats: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Drop leading and trailing beats on silence (weaker than half the beats' RMS)."""
    strength = local[beats]
    threshold = 0.5 * math.sqrt(float((strength**2).mean()))
    strong = np.flatnonzero(strength >= threshold)
    if len(strong) == 0:
        return beats[:0]
    return beats[strong[0] : strong[-1] + 1]


def _beat_strength(onset: Floats, frames: npt.NDArray[np.int64], reach: int = 3) -> Floats:
    """The envelope's maximum within `reach` frames of each beat."""
    index = np.clip(frames[:, None] + np.arange(-reach, reach + 1)[None, :], 0, len(onset) - 1)
    strength: Floats = onset[index].max(axis=1)
    return strength


def _confidence(onset: Floats, frames: npt.NDArray[np.int64], periodicity: float) -> float:
    """0..1, the geometric mean of three marks, each 0..1, so that any one failing fails it:

    - contrast: the envelope on the beats against half-way between them (ambient: low);
    - periodicity: the autocorrelation at the period, 0.1 -> 0, 0.5 and more -> 1;
    - steadiness: the spread of the beat intervals (coefficient of variation), 1.5 % and
      less -> 1, 8 % and more -> 0 (a rubato ballad: its beats follow the notes, not a pulse).
    """
    on_beats = float(np.median(_beat_strength(onset, frames)))
    between = (frames[:-1] + frames[1:]) // 2
    off_beats = float(np.median(_beat_strength(onset, between)))
    contrast = 1.0 - off_beats / on_beats if on_beats > 0 else 0.0
    regular = (periodicity - PERIODIC_FROM) / (PERIODIC_AT - PERIODIC_FROM)
    intervals = np.diff(frames)
    spread = float(intervals.std() / intervals.mean())
    steady = (UNSTEADY_AT - spread) / (UNSTEADY_AT - STEADY_UP_TO)
    marks = np.clip([contrast, regular, steady], 0.0, 1.0)
    return float(np.prod(marks) ** (1.0 / 3.0))


def _downbeats(onset: Floats, frames: npt.NDArray[np.int64]) -> Floats:
    """The beats that start a 4/4 bar, when one phase's accents stand out; else none."""
    if len(frames) < 2 * BAR:
        return np.zeros(0)
    strength = _beat_strength(onset, frames, reach=2)
    means = np.array([strength[phase::BAR].mean() for phase in range(BAR)])
    phase = int(np.argmax(means))
    others = np.delete(means, phase)
    spread = float(strength.std())
    if spread <= 0.0 or (means[phase] - others.max()) / spread < DOWNBEAT_CONTRAST:
        return np.zeros(0)
    return frames[phase::BAR] / FPS + LATENCY_SECONDS
