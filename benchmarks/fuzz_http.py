"""The HTTP fuzz at length: `python -m benchmarks.fuzz_http [--cases 20000] [--seed 0]`.

Runs the cases of `tests/chatkit_web/http_cases.py` against the ASGI app (memory store,
scripted app) and prints how many were run, the answers by status, and every case that got
a 5xx or an error that is not the JSON error body. Exit status 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter

from hypothesis import HealthCheck, given, seed, settings
from starlette.testclient import TestClient

from chatkit_web import Config, create_app
from tests.chatkit_web.http_cases import Case, Known, cases, check
from tests.chatkit_web.http_cases import seed as seed_records


class Run:
    """The client under test and what the run saw."""

    def __init__(self, client: TestClient, known: Known) -> None:
        self.client = client
        self.known = known
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []

    def one(self, case: Case) -> None:
        """Send one case and record the outcome (never raising, so the run goes on)."""
        response = case.send(self.client, self.known)
        self.statuses[response.status_code] += 1
        try:
            check(case, response)
        except AssertionError as exc:
            self.failures.append(str(exc)[:500])


def main() -> None:
    """Run the fuzz and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        config = Config(app="tests.chatkit_web.apps:fast_app", store="memory", data_dir=data_dir)
        with TestClient(create_app(config, env={}), raise_server_exceptions=False) as client:
            known = Known()
            seed_records(client, known)
            run = Run(client, known)
            started = time.perf_counter()
            fuzz = settings(
                max_examples=args.cases,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )(given(case=cases)(run.one))
            seed(args.seed)(fuzz)()
            elapsed = time.perf_counter() - started
    total = sum(run.statuses.values())
    print(f"cases: {total} in {elapsed:.1f} s (seed {args.seed})")
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(run.statuses.items())))
    print(f">= 500: {sum(n for s, n in run.statuses.items() if s >= 500)}")
    print(f"failed checks: {len(run.failures)}")
    for failure in run.failures[:20]:
        print("  " + failure)
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
