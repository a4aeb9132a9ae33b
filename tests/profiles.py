"""The hypothesis profiles the suite runs under (`HYPOTHESIS_PROFILE`, default `ci`).

`ci` is derandomized and small so the suite is quick and never flakes; `dev` is random and
larger; `thorough` is for a long soak before a release.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=_QUIET,
)
settings.register_profile("dev", max_examples=200, deadline=None, suppress_health_check=_QUIET)
settings.register_profile(
    "thorough", max_examples=2_000, deadline=None, suppress_health_check=_QUIET
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "dev", "thorough"):
    PROFILE = "ci"

CODEC_SETTINGS = settings(settings.get_profile(PROFILE))
"""Decorator applying the selected profile to one test, without touching the global default."""


def examples(factor: int) -> settings:
    """The selected profile with `factor` times its example count (for cheap, broad tests)."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=base.max_examples * factor)
