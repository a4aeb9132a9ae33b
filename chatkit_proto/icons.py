"""Icon names (SPEC §14): 64 built-in names plus `vendor:*` and `lucide:*` ids."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias, get_args

from pydantic import StringConstraints

__all__ = ["ICON_NAMES", "ICON_PREFIXES", "IconName", "KnownIconName", "PrefixedIconName"]

KnownIconName: TypeAlias = Literal[
    "agent", "analytics", "atom", "batch", "bolt", "book-open", "book-closed", "book-clock", "bug",
    "calendar", "chart", "check", "check-circle", "check-circle-filled", "chevron-left",
    "chevron-right", "circle-question", "clock", "compass", "confetti", "cube", "desktop",
    "document", "dot", "dots-horizontal", "dots-vertical", "empty-circle", "external-link",
    "globe", "keys", "lab", "images", "info", "lifesaver", "lightbulb", "mail", "map-pin", "maps",
    "mobile", "name", "notebook", "notebook-pencil", "page-blank", "phone", "play", "plus",
    "profile", "profile-card", "reload", "star", "star-filled", "search", "sparkle",
    "sparkle-double", "square-code", "square-image", "square-text", "suitcase", "settings-slider",
    "user", "wreath", "write", "write-alt", "write-alt2",
]  # fmt: skip
"""One of the 64 icon names the SDK knows by name."""

ICON_NAMES: frozenset[str] = frozenset(get_args(KnownIconName))
"""The 64 built-in icon names, for membership tests."""

ICON_PREFIXES: tuple[str, ...] = ("vendor:", "lucide:")
"""Prefixes that make any string a valid icon id (e.g. `lucide:rocket`)."""

PrefixedIconName: TypeAlias = Annotated[str, StringConstraints(pattern=r"^(?:vendor|lucide):")]
"""A vendor or Lucide icon id: any string starting with `vendor:` or `lucide:`."""

IconName: TypeAlias = KnownIconName | PrefixedIconName
"""Any icon a server may emit (SPEC §14); other strings fail validation."""
