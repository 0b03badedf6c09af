"""Bitrates that keep a render under its size budget (Telegram's 50 MB upload); no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rendering.errors import TrackTooLong

DEFAULT_MAX_BYTES = 50_000_000
TEASER_MAX_BYTES = 30_000_000

MAX_VIDEO_KBPS = 2500  # a cover with a moving visualisation needs no more at 720p
MIN_VIDEO_KBPS = 150
AUDIO_STEPS_KBPS = (128, 96, 64)  # best first; the last one is the floor
# Audio is lowered only when the video would otherwise fall under these rates.
_VIDEO_WANTED_FOR_AUDIO = {128: 600, 96: 300, 64: MIN_VIDEO_KBPS}
VBV_SECONDS = 2.0  # x264 VBV buffer = this many seconds of the video bitrate
_CONTAINER_SHARE = 0.02  # MP4 index, AAC framing, muxer slack
_CONTAINER_FIXED_BYTES = 256_000


@dataclass(frozen=True, slots=True)
class Bitrates:
    """Encoder settings in kbit/s: video (as x264 maxrate), its VBV buffer, and audio."""

    video_kbps: int
    audio_kbps: int
    bufsize_kbits: int

    def worst_case_bytes(self, duration: float) -> int:
        """Upper bound of the media payload for `duration` seconds, before container overhead."""
        bits = (self.video_kbps + self.audio_kbps) * 1000 * duration + self.bufsize_kbits * 1000
        return int(bits / 8)


def _usable_bits(max_bytes: int) -> float:
    return (max_bytes * (1 - _CONTAINER_SHARE) - _CONTAINER_FIXED_BYTES) * 8


def _video_kbps(usable_bits: float, audio_kbps: int, duration: float) -> float:
    # total bits = (v + a) * 1000 * d + v * 1000 * VBV_SECONDS  <=  usable
    return (usable_bits / 1000 - audio_kbps * duration) / (duration + VBV_SECONDS)


def max_duration(max_bytes: int) -> float:
    """Longest track (seconds) that still fits at the minimal bitrates."""
    floor_audio = AUDIO_STEPS_KBPS[-1]
    usable_kbits = _usable_bits(max_bytes) / 1000
    return (usable_kbits - MIN_VIDEO_KBPS * VBV_SECONDS) / (MIN_VIDEO_KBPS + floor_audio)


def plan_bitrates(duration: float, max_bytes: int = DEFAULT_MAX_BYTES) -> Bitrates:
    """Best bitrates for a track of `duration` seconds; TrackTooLong when nothing fits."""
    if duration <= 0:
        raise ValueError("duration must be positive")
    usable = _usable_bits(max_bytes)
    for audio in AUDIO_STEPS_KBPS:
        video = min(_video_kbps(usable, audio, duration), MAX_VIDEO_KBPS)
        if video >= _VIDEO_WANTED_FOR_AUDIO[audio]:
            video_kbps = int(video)
            return Bitrates(
                video_kbps=video_kbps,
                audio_kbps=audio,
                bufsize_kbits=int(video_kbps * VBV_SECONDS),
            )
    raise TrackTooLong(duration, max_bytes, max_duration(max_bytes))
