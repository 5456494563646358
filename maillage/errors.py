"""Errors that reach the user, worded in French, never as a traceback (the core layer)."""

from __future__ import annotations


class MaillageError(Exception):
    """Base of every error shown to the user; its message is French and actionable."""


class DataError(MaillageError):
    """A data source is missing, corrupt or cannot be fetched."""
