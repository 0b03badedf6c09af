"""What music analysis costs (issue 18): CPU for a track, decode and numpy apart, and accuracy.

Generates a track with kicks on the beats and off-beat hi-hats (tests/music/tracks.py), encodes
it as MP3 like a provider's track, and analyses it as the bot does (`analyse_track`: ffmpeg
decodes to 8 kHz mono, numpy does the rest), `rounds` times; the median CPU of our process plus
its ffmpeg child is compared with the goal (≤ 1 s for 3 minutes). Then the beat F-measure at
±70 ms on 30-second fixtures at 90, 128 and 150 BPM.

`--librosa PYTHON` also runs librosa's `beat_track` on the same fixtures with that interpreter
(a scratch virtual environment with librosa; never the project's), for the comparison in
docs/architecture.md §9.1. Run:
    python -m bench.analysis_cost [seconds] [rounds] [--librosa /path/to/python]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from bot.music.track import analyse_track
from bot.rendering.runner import Ffmpeg
from tests.music.test_analysis import f_measure
from tests.music.tracks import beat_track

GOAL_CPU_SECONDS = 1.0
FIXTURE_BPMS = (90, 128, 150)
FIXTURE_SECONDS = 30.0
TOLERANCE = 0.07

LIBROSA_SCRIPT = """
import json, sys, time
started = time.process_time()
import librosa
imported = time.process_time() - started
out = {"import_cpu": imported, "runs": []}
for path in sys.argv[1:]:
    y, sr = librosa.load(path, sr=22050, mono=True)
    started = time.process_time()
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    cpu = time.process_time() - started
    low = librosa.onset.onset_strength(y=y, sr=sr, fmax=200, n_mels=32)
    _, low_beats = librosa.beat.beat_track(onset_envelope=low, sr=sr, units="time")
    out["runs"].append({"cpu": cpu, "tempo": float(tempo[0]), "beats": [float(b) for b in beats],
                        "low": [float(b) for b in low_beats]})
print(json.dumps(out))
"""


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


async def main(seconds: float, rounds: int, librosa_python: str | None) -> None:
    binary = Path(imageio_ffmpeg.get_ffmpeg_exe())
    ffmpeg = Ffmpeg(binary, niceness=0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = beat_track(128, seconds).write(folder / "track.wav")
        mp3 = folder / "track.mp3"
        encode = [str(binary), "-v", "error", "-i", str(wav), "-b:a", "192k", str(mp3)]
        await ffmpeg.run(encode[1:], time_limit=120)
        own, child, wall = [], [], []
        for _ in range(rounds):
            before = _cpu()
            started = time.monotonic()
            analysis = await analyse_track(ffmpeg, mp3)
            wall.append(time.monotonic() - started)
            after = _cpu()
            own.append(after[0] - before[0])
            child.append(after[1] - before[1])
        total = statistics.median(a + b for a, b in zip(own, child, strict=True))
        print(f"track: {seconds:.0f} s MP3 at 128 BPM; {len(analysis.beats)} beats found")
        print(f"numpy (our process): {statistics.median(own):.2f} s CPU")
        print(f"ffmpeg decode (child): {statistics.median(child):.2f} s CPU")
        print(f"wall: {statistics.median(wall):.2f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (track generation included): {peak:.0f} MB")
        verdict = "within" if total <= GOAL_CPU_SECONDS else "OVER"
        print(
            f"analysis CPU for {seconds:.0f} s: {total:.2f} s "
            f"({verdict} goal: ≤ {GOAL_CPU_SECONDS:.0f} s)"
        )
        fixtures = []
        for bpm in FIXTURE_BPMS:
            track = beat_track(bpm, FIXTURE_SECONDS, seed=bpm)
            path = track.write(folder / f"fixture-{bpm}.wav")
            found = await analyse_track(ffmpeg, path)
            score = f_measure(found.beats, track.beats, TOLERANCE)
            fixtures.append((bpm, track, path))
            print(
                f"ours    {bpm} BPM: tempo {found.tempo:6.1f}, "
                f"confidence {found.confidence:.2f}, F {score:.3f} "
                f"(goal: ≥ 0.95), downbeats F "
                f"{f_measure(found.downbeats, track.downbeats, TOLERANCE):.3f}"
            )
        if librosa_python:
            _librosa(librosa_python, fixtures, [str(wav)])


def _librosa(python: str, fixtures: list[tuple[int, object, Path]], long: list[str]) -> None:
    paths = [str(path) for _, _, path in fixtures] + long
    done = subprocess.run(  # noqa: S603 - the interpreter the person running the bench named
        [python, "-c", LIBROSA_SCRIPT, *paths], check=True, capture_output=True, text=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"librosa import: {result['import_cpu']:.2f} s CPU")
    for (bpm, track, _), run in zip(fixtures, result["runs"], strict=False):
        score = f_measure(tuple(run["beats"]), track.beats, TOLERANCE)  # type: ignore[attr-defined]
        print(
            f"librosa {bpm} BPM: tempo {run['tempo']:6.1f}, F {score:.3f}, "
            f"{run['cpu']:.2f} s CPU; on a mel onset envelope below 200 Hz: F "
            f"{f_measure(tuple(run['low']), track.beats, TOLERANCE):.3f}"  # type: ignore[attr-defined]
        )
    print(f"librosa beat_track on the long track: {result['runs'][-1]['cpu']:.2f} s CPU")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.analysis_cost")
    parser.add_argument("seconds", nargs="?", type=float, default=180.0)
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    parser.add_argument("--librosa", help="a Python with librosa installed, for the comparison")
    options = parser.parse_args()
    asyncio.run(main(options.seconds, options.rounds, options.librosa))
