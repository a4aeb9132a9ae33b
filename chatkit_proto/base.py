"""The base model every protocol type derives from, and the small shared field types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict

JSONValue: TypeAlias = Any
"""A free-form JSON value: kept exactly as given, nulls included (SPEC §2.2)."""

JSONObject: TypeAlias = dict[str, Any]
"""A free-form JSON object: kept exactly as given, nulls included (SPEC §2.2)."""


def _as_utc(value: datetime) -> datetime:
    # D13: every timestamp we emit is UTC with an explicit offset; naive input is read as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]
"""An ISO-8601 instant, normalised to UTC and written with a `Z` suffix (DEVIATIONS D13)."""


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class ProtoModel(BaseModel):
    """Base of every wire type: unknown keys are ignored on input (SPEC §1.2)."""

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        use_enum_values=True,
        allow_inf_nan=False,
    )
