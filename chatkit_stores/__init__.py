"""Durable stores of the ChatKit store contract, and attachment bytes on disk."""

from .files import LocalFiles
from .sqlite import SQLiteStore

__all__ = ["LocalFiles", "SQLiteStore"]
