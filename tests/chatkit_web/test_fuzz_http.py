"""A fuzz over the whole ASGI app: no answer is a 5xx, every error is the JSON error body.

2,000 derandomized cases here; `benchmarks/fuzz_http.py` runs 20,000 and more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from chatkit_web import Config, create_app
from tests.chatkit_web.http_cases import Case, Known, cases, check, seed

FUZZ = settings(
    max_examples=2_000,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Known]]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    config = Config(app="tests.chatkit_web.apps:fast_app", store="memory", data_dir=str(data_dir))
    known = Known()
    with TestClient(create_app(config, env={})) as client:
        seed(client, known)
        yield client, known


@FUZZ
@given(case=cases)
def test_no_request_gets_a_5xx_or_a_non_json_error(
    fuzzed: tuple[TestClient, Known], case: Case
) -> None:
    client, known = fuzzed
    check(case, case.send(client, known))
