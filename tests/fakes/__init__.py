"""Fakes of the services the bot talks to, as ASGI apps that record what they receive."""
