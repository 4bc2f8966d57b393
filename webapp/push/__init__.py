"""Pushing pages: the event streams (views), what they follow (feeds) and the fan-out (hub)."""
