"""The ways into Pacte: each channel turns its input into calls of tickets.services.

Absolute imports only in here: the top-level name ``channels`` is the Django Channels library."""
