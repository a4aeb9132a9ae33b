"""Stores that persist outside the process, each behind the `chatkit_proto` store contract."""

from .postgres import PostgresStore

__all__ = ["PostgresStore"]
