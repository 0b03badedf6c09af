"""Shared test set-up."""

import os

# python-telegram-bot warns on every integer time period unless opted in; the bot opts in at
# start-up (bot/__main__.py) and the tests do the same (warnings are errors here).
os.environ["PTB_TIMEDELTA"] = "true"
