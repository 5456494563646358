"""The user-facing errors, re-exported for the data layer (defined in :mod:`maillage.errors`)."""

from __future__ import annotations

from maillage.errors import DataError, MaillageError

__all__ = ["DataError", "MaillageError"]
