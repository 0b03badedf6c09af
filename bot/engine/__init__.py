"""The job engine: jobs, their loops, admission, callbacks and render jobs (no Telegram types)."""
