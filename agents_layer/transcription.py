"""Dictation (`input.transcribe`) through OpenAI's audio transcription endpoint."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from openai import APIConnectionError, APIStatusError, AsyncOpenAI

from chatkit_proto.errors import InvalidRequest, ProtocolError

__all__ = ["DEFAULT_TRANSCRIBE_MODEL", "EXTENSIONS", "OpenAITranscriber"]

logger = logging.getLogger(__name__)

DEFAULT_TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"

EXTENSIONS = {
    "audio/webm": "webm",
    "video/webm": "webm",
    "audio/mp4": "mp4",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mpeg",
    "audio/mp3": "mp3",
    "audio/flac": "flac",
}
"""File extension for each accepted base media type: OpenAI picks the decoder by extension."""

# Key-shaped tokens, in case an upstream message quotes one (even a masked one).
_KEY_PATTERN = re.compile(r"\b(?:sk|rk|sess)-[A-Za-z0-9_\-*.]{4,}")


class OpenAITranscriber:
    """Turns dictated audio into text with an OpenAI transcription model."""

    def __init__(self, client: AsyncOpenAI, model: str = DEFAULT_TRANSCRIBE_MODEL) -> None:
        self.client = client
        self.model = model

    def __repr__(self) -> str:
        return f"OpenAITranscriber(model={self.model!r})"

    @classmethod
    def from_env(cls, client: AsyncOpenAI, env: Mapping[str, str]) -> OpenAITranscriber:
        """A transcriber using OPENAI_TRANSCRIBE_MODEL, else the default model."""
        model = env.get("OPENAI_TRANSCRIBE_MODEL", "").strip() or DEFAULT_TRANSCRIBE_MODEL
        return cls(client, model)

    async def transcribe(self, audio: bytes, mime_type: str) -> str:
        """The text spoken in `audio`; any failure is a ProtocolError safe to show the user."""
        media_type = mime_type.split(";", 1)[0].strip().lower()
        extension = EXTENSIONS.get(media_type)
        if extension is None:
            accepted = ", ".join(sorted(set(EXTENSIONS)))
            raise InvalidRequest(
                f"Cannot transcribe {media_type or 'audio'}; send one of: {accepted}"
            )
        if not audio:
            raise InvalidRequest("The audio is empty")
        try:
            result = await self.client.audio.transcriptions.create(
                model=self.model, file=(f"audio.{extension}", audio, media_type)
            )
        except APIStatusError as exc:
            raise self._status_error(exc) from None
        except APIConnectionError:
            logger.warning("transcription service unreachable")
            raise ProtocolError(
                "internal", "The transcription service could not be reached"
            ) from None
        return result.text

    def _status_error(self, exc: APIStatusError) -> ProtocolError:
        """The error to answer with for an error status of the transcription service."""
        status = exc.status_code
        logger.warning("transcription failed: status %s, code %s", status, exc.code)
        if status in (400, 415, 422):
            return InvalidRequest(f"The audio could not be transcribed: {self._detail(exc)}")
        if status == 413:
            return ProtocolError("payload_too_large", "The audio is too long to transcribe")
        if status == 429:
            retry_after = exc.response.headers.get("retry-after", "")
            return ProtocolError(
                "rate_limited",
                "Too many transcriptions right now; try again shortly",
                retry_after=int(retry_after) if retry_after.isdigit() else None,
            )
        if status in (401, 403):
            # The server's own credentials are at fault: nothing the user can fix, and the
            # upstream message may quote (part of) the key.
            return ProtocolError("internal", "The transcription service rejected this server")
        return ProtocolError("internal", f"The transcription service failed (status {status})")

    def _detail(self, exc: APIStatusError) -> str:
        """The upstream error message, with anything key-like removed."""
        body = exc.body
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message.strip():
            return f"status {exc.status_code}"
        key = self.client.api_key
        if key:
            message = message.replace(key, "[redacted]")
        return _KEY_PATTERN.sub("[redacted]", message.strip())
