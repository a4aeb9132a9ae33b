"""Run the whole benchmark suite: `python -m benchmarks.run [--quick] [--only B1,B3]`.

Prints one table (median [min..max] of the runs, the target, whether it is met) and writes
`benchmarks/results.json` and `benchmarks/RESULTS.md`. Every target is a ratio to a bare
baseline measured in the same invocation. `--quick` runs 3 repetitions instead of 5, with
smaller loads; the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import (
    b1_encode,
    b2_pipeline,
    b6_pages,
    b7_workers,
    http_requests,
    http_streams,
    pg_pages,
)
from benchmarks.serve import fastest

HERE = Path(__file__).resolve().parent
FULL = {
    "runs": 5,
    "b1_scale": 1.0,
    "b2_requests": 5,
    "b3_requests": 3,
    "b5_requests": 100,
    "b4_large_runs": 3,
}
QUICK = {
    "runs": 3,
    "b1_scale": 0.3,
    "b2_requests": 2,
    "b3_requests": 2,
    "b5_requests": 40,
    "b4_large_runs": 1,
}

Row = tuple[str, str, dict[str, Any], str, bool | None]


def _fmt(figure: dict[str, Any]) -> str:
    return f"{figure['median']:g} [{figure['min']:g}..{figure['max']:g}]"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with suppress(OSError):  # not Linux: the CPU stays unknown
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "uvicorn": fastest(),
    }


def rows_b1(r: dict[str, Any]) -> list[Row]:
    return [
        ("B1", "text delta → SSE, µs/event", r["delta_us"], "", None),
        ("B1", "  orjson of prebuilt dict, µs/event", r["delta_orjson_us"], "", None),
        ("B1", "  ratio", r["delta_ratio"], "≤ 2", r["delta_ratio"]["median"] <= 2),
        ("B1", "widget item (ListView, 20 rows) → SSE, µs", r["widget_us"], "", None),
        ("B1", "  orjson of prebuilt dict, µs", r["widget_orjson_us"], "", None),
        ("B1", "  ratio", r["widget_ratio"], "≤ 2", r["widget_ratio"]["median"] <= 2),
    ]


def rows_b2(r: dict[str, Any]) -> list[Row]:
    above = r["above_bare_us"]
    return [
        ("B2", "full pipeline, µs/delta", r["full_us"], "", None),
        ("B2", "  bare Runner, µs/delta", r["bare_us"], "", None),
        ("B2", "  above bare Runner, µs/delta", above, "≤ 5 µs", above["median"] <= 5),
    ]


def rows_b3(r: dict[str, Any]) -> list[Row]:
    target = r["cpu_target_us_per_delta"]
    cpu = r["cpu_us_per_delta"]
    return [
        ("B3", "server CPU, µs/delta", cpu, f"≤ {target['median']:g}", cpu["median"] <= target["median"]),
        ("B3", "  bare Starlette stream, µs/frame", r["bare_stream_cpu_us_per_delta"], "", None),
        ("B3", "  target: bare Runner + 1.5 x bare stream", target, "", None),
        ("B3", "time to first byte, ms", r["ttfb_ms"], "", None),
        ("B3", "  bare Starlette TTFB, ms", r["bare_ttfb_ms"], "", None),
        ("B3", "  TTFB ratio", r["ttfb_ratio"], "≤ 2", r["ttfb_ratio"]["median"] <= 2),
    ]  # fmt: skip


def rows_b4(r: dict[str, Any]) -> list[Row]:
    growth = r["rss_growth_kib_per_stream"]
    p99, wall, cpu = r["p99_first_ratio"], r["wall_ratio"], r["cpu_ratio"]
    return [
        ("B4", "p50 first event, ms", r["p50_first_ms"], "", None),
        ("B4", "  bare stack p50 first event, ms", r["bare_p50_first_ms"], "", None),
        ("B4", "p99 first event, ms", r["p99_first_ms"], "", None),
        ("B4", "  bare stack p99 first event, ms", r["bare_p99_first_ms"], "", None),
        ("B4", "  p99 ratio", p99, "≤ 0.5", p99["median"] <= 0.5),
        ("B4", "wall, s", r["wall_s"], "", None),
        ("B4", "  bare stack wall, s", r["bare_wall_s"], "", None),
        ("B4", "  wall ratio", wall, "≤ 1.15", wall["median"] <= 1.15),
        ("B4", "server CPU for the burst, s", r["cpu_s"], "", None),
        ("B4", "  bare stack CPU, s", r["bare_cpu_s"], "", None),
        ("B4", "  CPU ratio", cpu, "≤ 1.3", cpu["median"] <= 1.3),
        ("B4", "errors", r["errors"], "0", r["errors"]["max"] == 0),
        ("B4", "peak RSS, MiB", r["peak_rss_mib"], "", None),
        ("B4", "  bare stack peak RSS, MiB", r["bare_peak_rss_mib"], "", None),
        ("B4", "RSS growth, KiB/stream", growth, "≤ 150", growth["median"] <= 150),
        ("B4", "  bare stack RSS growth, KiB/stream", r["bare_rss_growth_kib_per_stream"], "", None),
    ]  # fmt: skip


def rows_b4_large(r: dict[str, Any]) -> list[Row]:
    n = f"{r['streams']:,} streams"
    return [
        ("B4", f"{n}: errors", r["errors"], "0", r["errors"]["max"] == 0),
        ("B4", f"  {n}: bare stack errors", r["bare_errors"], "", None),
        ("B4", f"  {n}: p99 first event, ms", r["p99_first_ms"], "", None),
        ("B4", f"  {n}: bare stack p99 first event, ms", r["bare_p99_first_ms"], "", None),
        ("B4", f"  {n}: p99 ratio", r["p99_first_ratio"], "", None),
        ("B4", f"  {n}: wall ratio", r["wall_ratio"], "", None),
        ("B4", f"  {n}: CPU ratio", r["cpu_ratio"], "", None),
        ("B4", f"  {n}: RSS growth, KiB/stream", r["rss_growth_kib_per_stream"], "", None),
        ("B4", f"  {n}: bare stack RSS growth, KiB/stream", r["bare_rss_growth_kib_per_stream"], "", None),
    ]  # fmt: skip


def rows_b5(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for op in http_requests.OPERATIONS:
        f = r[op]
        for store, share in (("memory", 0.6), ("sqlite", 0.4)):
            met = f[f"{store}_rps_share"]["median"] >= share
            rows += [
                ("B5", f"{op} {store}, req/s", f[f"{store}_rps"], "", None),
                ("B5", f"  {store} CPU, µs/request", f[f"{store}_cpu_us_per_request"], "", None),
                ("B5", "  bare endpoint, req/s", f[f"{store}_bare_rps"], "", None),
                ("B5", "  bare CPU, µs/request", f[f"{store}_bare_cpu_us_per_request"], "", None),
                ("B5", "  share of bare req/s", f[f"{store}_rps_share"], f"≥ {share:g}", met),
                ("B5", "  errors", f[f"{store}_errors"], "0", f[f"{store}_errors"]["max"] == 0),
            ]
    return rows


def pages(runs: int, repeats: int) -> dict[str, Any]:
    """B6 on SQLite, and on PostgreSQL when a server answers."""
    results = {"sqlite": b6_pages.run(runs, repeats)}
    if pg_pages.available():
        results["postgres"] = pg_pages.run(runs, repeats)
    return results


def rows_b6(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for store in ("sqlite", "postgres"):
        if store not in r:
            continue
        figures = r[store]
        small, large = figures["sizes"]
        for name in ("threads.list first page", "threads.list deep page", "items.list page"):
            f = figures[name]
            rows += [
                ("B6", f"{name} {store} p50 µs, {small:,} threads", f[f"p50_us_{small}"], "", None),
                ("B6", f"  p50 µs, {large:,} threads", f[f"p50_us_{large}"], "", None),
                ("B6", "  growth", f["growth"], "≤ 1.2", f["growth"]["median"] <= 1.2),
            ]
    return rows


def rows_b7(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for store, workers in b7_workers.CONFIGURATIONS:
        f = r[f"{store}_{workers}"]
        rows += [
            (
                "B7",
                f"{store}, {workers} worker(s): errors",
                f["errors"],
                "0",
                f["errors"]["max"] == 0,
            ),
            ("B7", "  p50 first event, ms", f["p50_first_ms"], "", None),
            ("B7", "  p99 first event, ms", f["p99_first_ms"], "", None),
            ("B7", "  wall, s", f["wall_s"], "", None),
        ]
    return rows


def table(rows: list[Row]) -> list[str]:
    """Markdown table lines."""
    lines = ["| | figure | median [min..max] | target | met |", "| --- | --- | --- | --- | --- |"]
    for bench, name, figure, target, met in rows:
        verdict = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {bench} | {name} | {_fmt(figure)} | {target} | {verdict} |")
    return lines


DEFAULT_ONLY = "B1,B2,B3,B4,B5,B6,B7"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions, smaller loads")
    parser.add_argument("--only", default=DEFAULT_ONLY, help="comma-separated subset")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    runs = settings["runs"]
    only = {name.strip().upper() for name in args.only.split(",")}
    results: dict[str, Any] = {}
    rows: list[Row] = []

    def stage(
        name: str, measure: Callable[[], dict[str, Any]], to_rows: Any, key: str = ""
    ) -> None:
        if name not in only:
            return
        key = key or name
        started = time.monotonic()
        print(f"{key} …", flush=True)
        results[key] = measure()
        results[key]["seconds"] = round(time.monotonic() - started, 1)
        rows.extend(to_rows(results[key]))

    stage("B1", lambda: b1_encode.run(runs, settings["b1_scale"]), rows_b1)
    stage("B2", lambda: b2_pipeline.run(runs, settings["b2_requests"]), rows_b2)
    bare_runner = results.get("B2", {}).get("bare_us", {}).get("median")
    if bare_runner is None and "B3" in only:
        bare_runner = b2_pipeline.run(1, 1)["bare_us"]["median"]
    stage("B3", lambda: http_streams.run_b3(runs, settings["b3_requests"], bare_runner), rows_b3)
    stage("B4", lambda: http_streams.run_b4(runs), rows_b4)
    large = http_streams.B4_LARGE_STREAMS
    stage(
        "B4",
        lambda: http_streams.run_b4(settings["b4_large_runs"], large),
        rows_b4_large,
        "B4_1000",
    )
    stage("B5", lambda: http_requests.run(runs, settings["b5_requests"]), rows_b5)
    stage("B6", lambda: pages(runs, 300 if args.quick else 1000), rows_b6)
    if "B7" in only and not pg_pages.available():
        print(f"B7 skipped: no PostgreSQL at {pg_pages.DSN} (set CHATKIT_BENCH_POSTGRES_URL)")
        only.discard("B7")
    stage("B7", lambda: b7_workers.run(runs), rows_b7)

    info = machine()
    mode = "quick: 3 runs per figure, smaller loads" if args.quick else "full: 5 runs per figure"
    lines = table(rows)
    print("\n".join(lines))
    met = sum(1 for row in rows if row[4] is True)
    unmet = [f"{row[0]} {row[1].strip()}" for row in rows if row[4] is False]
    print(f"\n{mode}; targets met: {met}/{met + len(unmet)}")
    if unmet:
        print("not met: " + "; ".join(unmet))
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (HERE / "results.json").write_text(
        json.dumps({"when": stamp, "mode": mode, "machine": info, **results}, indent=2) + "\n"
    )
    if args.quick or only != set(DEFAULT_ONLY.split(",")):
        # The committed table is the latest full run of every benchmark.
        print(f"wrote {HERE / 'results.json'} (RESULTS.md is kept for full runs)")
        return
    (HERE / "RESULTS.md").write_text(
        f"# Benchmark results\n\n`python -m benchmarks.run{' --quick' if args.quick else ''}`,"
        f" {stamp}; {mode}.\n\nMachine: {info['cpu']}, {info['cores']} cores,"
        f" {info['platform']}, Python {info['python']}, SQLite {info['sqlite']},"
        f" uvicorn {info['uvicorn']}.\n\n" + "\n".join(lines) + "\n"
    )
    print(f"wrote {HERE / 'results.json'} and {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
