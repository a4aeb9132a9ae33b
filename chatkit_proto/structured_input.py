"""Structured input: typed questions the client asks in place of the composer (SPEC §3.8)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import ProtoModel


class StructuredInputAnswer(ProtoModel):
    """The answer recorded on one question."""

    values: list[str] = Field(default_factory=list)
    skipped: bool = False


class ChoiceOption(ProtoModel):
    """One offered value of a multiple-choice question."""

    value: str


class StructuredInputBase(ProtoModel):
    """Fields every question has; `id` is stable and keys the submitted answers."""

    id: str
    question: str
    answer: StructuredInputAnswer | None = None


class MultipleChoiceInput(StructuredInputBase):
    """Pick one (or, with `multiple`, several) of the options, or type a custom answer."""

    type: Literal["multiple_choice"] = "multiple_choice"
    options: list[ChoiceOption]
    multiple: bool = False


class FreeformInput(StructuredInputBase):
    """Answer in free text."""

    type: Literal["freeform"] = "freeform"
    description: str | None = None


StructuredInput = Annotated[MultipleChoiceInput | FreeformInput, Field(discriminator="type")]


class StructuredInputSubmission(ProtoModel):
    """The `input` of `threads.add_structured_input`: answers keyed by question id."""

    status: Literal["answered", "skipped"] = "answered"
    answers: dict[str, StructuredInputAnswer] = Field(default_factory=dict)
