"""Our own renderer: audio + cover + texts + format -> an MP4 and its probed facts (issue 10).

The public interface is re-exported here; the job engine imports nothing else from this
package. Must not import Telegram, storage or the job engine.
"""

from bot.rendering.audio_file import AudioFileFacts, read_audio_file
from bot.rendering.budget import DEFAULT_MAX_BYTES, TEASER_MAX_BYTES, max_duration
from bot.rendering.engine import RenderedVideo, Renderer, RenderSpec
from bot.rendering.errors import (
    BadInput,
    FfmpegFailed,
    OutputTooLarge,
    RenderError,
    RenderTimedOut,
    TrackTooLong,
)
from bot.rendering.filtergraph import Clip, Visualisation
from bot.rendering.fonts import FontReport, Script
from bot.rendering.formats import VideoFormat, format_token, parse_format
from bot.rendering.live_photo import LIVE_MAX_BYTES, mux_hook_audio, still_frame
from bot.rendering.loop import LOOP_MAX_BYTES, RenderedLoop, plan_loop, render_loop
from bot.rendering.loop_plan import LoopMode, LoopTiming
from bot.rendering.loudness import STEP_SECONDS as LOUDNESS_STEP_SECONDS
from bot.rendering.loudness import loudness_levels
from bot.rendering.motion import Motion
from bot.rendering.pcm import PCM_RATE, decode_pcm
from bot.rendering.probe import MediaInfo, probe
from bot.rendering.queue import QueuePosition, RenderQueue

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LIVE_MAX_BYTES",
    "LOOP_MAX_BYTES",
    "LOUDNESS_STEP_SECONDS",
    "PCM_RATE",
    "TEASER_MAX_BYTES",
    "AudioFileFacts",
    "BadInput",
    "Clip",
    "FfmpegFailed",
    "FontReport",
    "LoopMode",
    "LoopTiming",
    "MediaInfo",
    "Motion",
    "OutputTooLarge",
    "QueuePosition",
    "RenderError",
    "RenderQueue",
    "RenderSpec",
    "RenderTimedOut",
    "RenderedLoop",
    "RenderedVideo",
    "Renderer",
    "Script",
    "TrackTooLong",
    "VideoFormat",
    "Visualisation",
    "decode_pcm",
    "format_token",
    "loudness_levels",
    "max_duration",
    "mux_hook_audio",
    "parse_format",
    "plan_loop",
    "probe",
    "read_audio_file",
    "render_loop",
    "still_frame",
]
