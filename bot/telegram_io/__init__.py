"""Telegram input and output: update intake, delivery, status messages, buttons, alerts."""
