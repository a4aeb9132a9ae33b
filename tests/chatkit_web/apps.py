"""Scripted apps for the HTTP tests, loadable with `--app tests.chatkit_web.apps:NAME`."""

from __future__ import annotations

from tests.apps import ScriptedApp

fast_app = ScriptedApp()
"""Answers at once: for tests that send many requests."""

flood_app = ScriptedApp(reply=" ".join(["x" * 16_384] * 1_500), delay=0.001)
"""A 24 MB answer, more than any socket buffers: a client that stops reading blocks its sends."""
