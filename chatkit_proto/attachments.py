"""File and image attachments and their upload descriptors (SPEC §3.6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .base import JSONObject, ProtoModel


def _origin_with_slash(url: str) -> str:
    # SPEC §2.4: URLs are normalised as the reference's URL type does; a bare origin gains "/".
    scheme, sep, rest = url.partition("://")
    if sep and scheme.isalpha() and rest and not any(c in rest for c in "/?#"):
        return url + "/"
    return url


URL = Annotated[str, AfterValidator(_origin_with_slash)]


class UploadDescriptor(ProtoModel):
    """Where and how the client uploads the bytes of a two-phase attachment."""

    url: URL
    method: Literal["POST", "PUT"]
    headers: dict[str, str] = Field(default_factory=dict)


class AttachmentBase(ProtoModel):
    """Fields every attachment has. `metadata` is server-private and never serialised."""

    id: str
    name: str
    mime_type: str
    upload_descriptor: UploadDescriptor | None = None
    thread_id: str | None = None
    metadata: JSONObject | None = Field(default=None, exclude=True)


class FileAttachment(AttachmentBase):
    """Any non-image file."""

    type: Literal["file"] = "file"


class ImageAttachment(AttachmentBase):
    """An image, with a URL the client renders as a thumbnail."""

    type: Literal["image"] = "image"
    preview_url: URL


Attachment = Annotated[FileAttachment | ImageAttachment, Field(discriminator="type")]


class AttachmentCreateParams(ProtoModel):
    """What the client declares before a two-phase upload."""

    name: str
    size: int = Field(ge=0)
    mime_type: str
