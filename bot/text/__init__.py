"""Words: every user-facing sentence (en/ru), their rendering and command parsing."""
