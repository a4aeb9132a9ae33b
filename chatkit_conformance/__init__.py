"""Conformance tooling: replay reference transcripts against a server, record new ones.

See shared/protocol/CONFORMANCE.md for the transcript format and the normalisation rules.
"""

from .client import ChatKitClient, ChatKitHTTPError, ChatKitProtocolError, ClientError
from .deviations import Deviation, Deviations, load_deviations
from .normalise import Normaliser, normalise, normalise_transcript
from .record import record, record_transcript
from .replay import ReplayReport, TranscriptResult, replay, replay_transcripts
from .transcript import RequestScript, Transcript, load_request_script, load_transcript

__all__ = [
    "ChatKitClient",
    "ChatKitHTTPError",
    "ChatKitProtocolError",
    "ClientError",
    "Deviation",
    "Deviations",
    "Normaliser",
    "ReplayReport",
    "RequestScript",
    "Transcript",
    "TranscriptResult",
    "load_deviations",
    "load_request_script",
    "load_transcript",
    "normalise",
    "normalise_transcript",
    "record",
    "record_transcript",
    "replay",
    "replay_transcripts",
]
