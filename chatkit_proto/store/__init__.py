"""The store contract every store passes, and the in-memory store."""

from .base import NotFoundError, Order, Store
from .memory import MemoryStore

__all__ = ["MemoryStore", "NotFoundError", "Order", "Store"]
