"""Music analysis of a track: tempo, beats, downbeats, sections and a confidence (issue 18).

`analysis` is pure numpy over decoded PCM; `sections` places sections from lyric tags or from
the audio's energy; `track.analyse_track` decodes with our ffmpeg and runs both off the event
loop. Imports numpy: load this package lazily, only where a track is analysed
(docs/architecture.md §9.1). Must not import Telegram, storage or the job engine.
"""
