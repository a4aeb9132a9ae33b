"""Throughput of SSE encoding: our codec against the plain pydantic way and an orjson yardstick.

Run: `.venv/bin/python benchmarks/codec.py` (or `-m benchmarks.codec`). Prints a table and
writes `benchmarks/results_codec.json`. Not a test: timings depend on the machine.

Cases (every variant yields the very same frame bytes; checked before timing):

* text deltas, 100,000 `thread.item.updated` text-delta events:
  - ours: `encode_event(TextDelta(...))`, the TextDelta built inside the timed loop;
  - ours, via a pydantic event: `encode_event(ThreadItemUpdatedEvent(...))`, built in the loop;
  - pydantic way: build `ThreadItemUpdatedEvent(item_id=..., update=ContentPartTextDelta(...))`
    and frame `model_dump_json(exclude_none=True)`;
  - yardstick (issue 6): frame `orjson.dumps` of an equivalent prebuilt dict.
* widget items, 1,000 `thread.item.done` events of a ListView with 20 ListViewItem rows, each
  row a Text and a Button with an onClickAction:
  - ours: `encode_event` of a prebuilt event, and with the event built in the loop;
  - pydantic way: `model_dump_json(exclude_none=True)` of a prebuilt event, and built in loop;
  - yardstick: `orjson.dumps` of an equivalent prebuilt dict.

Each variant runs `--runs` times (default 9), interleaved with the others; the table shows the median with min-max.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pydantic

from chatkit_proto.actions import ActionConfig
from chatkit_proto.codec import encode_event
from chatkit_proto.events import TextDelta, ThreadItemDoneEvent, ThreadItemUpdatedEvent
from chatkit_proto.items import WidgetItem
from chatkit_proto.updates import ContentPartTextDelta
from chatkit_proto.widgets import Button, ListView, ListViewItem, Text

RESULTS = Path(__file__).with_name("results_codec.json")
DELTAS = 100_000
WIDGETS = 1_000
ROWS = 20
RUNS = 9
TARGET_SPEEDUP = 5.0
PYDANTIC_BUILD = "pydantic: build + model_dump_json"
PYDANTIC_PREBUILT = "pydantic: model_dump_json(prebuilt)"

CREATED_AT = datetime(2026, 11, 22, 9, 45, 32, 555865, tzinfo=UTC)
_WORDS = ("Hello", " there", "!", " The", " answer", " is", " 42", ".\n\n", " café", " 😀", "\n- ")


# --- Inputs --------------------------------------------------------------------------------


def delta_inputs(count: int) -> list[tuple[str, int, str]]:
    """(item_id, content_index, delta) triples like a model stream's tokens."""
    rng = random.Random(1234)
    return [
        (f"msg_{n // 500:08x}", (n // 250) % 3, "".join(rng.choices(_WORDS, k=rng.randint(1, 3))))
        for n in range(count)
    ]


def widget_fields(n: int) -> dict[str, Any]:
    """The plain data one widget item is built from (the same for every variant)."""
    return {
        "id": f"msg_w{n:06}",
        "thread_id": "thr_bench",
        "rows": [
            {
                "key": f"task_{n}_{r}",
                "text": f"Task {r}: water the plants #{n}",
                "label": "Done" if r % 2 else "Open",
                "payload": {"task_id": f"t{n}_{r}", "done": None if r % 5 == 0 else bool(r % 2)},
            }
            for r in range(ROWS)
        ],
    }


def build_widget_event(fields: dict[str, Any]) -> ThreadItemDoneEvent:
    """The pydantic event, built the way a responder writes it."""
    return ThreadItemDoneEvent(
        item=WidgetItem(
            id=fields["id"],
            thread_id=fields["thread_id"],
            created_at=CREATED_AT,
            widget=ListView(
                children=[
                    ListViewItem(
                        key=row["key"],
                        children=[
                            Text(value=row["text"]),
                            Button(
                                label=row["label"],
                                onClickAction=ActionConfig(
                                    type="task.toggle", payload=row["payload"]
                                ),
                            ),
                        ],
                    )
                    for row in fields["rows"]
                ]
            ),
        )
    )


def widget_dict(fields: dict[str, Any]) -> dict[str, Any]:
    """The same event as a plain dict, in wire key order."""
    return {
        "type": "thread.item.done",
        "item": {
            "id": fields["id"],
            "thread_id": fields["thread_id"],
            "created_at": "2026-11-22T09:45:32.555865Z",
            "type": "widget",
            "widget": {
                "type": "ListView",
                "children": [
                    {
                        "key": row["key"],
                        "type": "ListViewItem",
                        "children": [
                            {"type": "Text", "value": row["text"]},
                            {
                                "type": "Button",
                                "label": row["label"],
                                "onClickAction": {
                                    "type": "task.toggle",
                                    "payload": row["payload"],
                                    "handler": "server",
                                    "loadingBehavior": "auto",
                                    "streaming": True,
                                },
                            },
                        ],
                    }
                    for row in fields["rows"]
                ],
            },
        },
    }


def delta_dict(item_id: str, content_index: int, delta: str) -> dict[str, Any]:
    """A text-delta event as a plain dict, in wire key order."""
    return {
        "type": "thread.item.updated",
        "item_id": item_id,
        "update": {
            "type": "assistant_message.content_part.text_delta",
            "content_index": content_index,
            "delta": delta,
        },
    }


# --- Variants (each returns the list of frames it produced) --------------------------------


def pydantic_frame(event: pydantic.BaseModel) -> bytes:
    """The plain pydantic way: `model_dump_json(exclude_none=True)` in an SSE frame."""
    return b"data: " + event.model_dump_json(by_alias=True, exclude_none=True).encode() + b"\n\n"


def orjson_frame(obj: dict[str, Any]) -> bytes:
    """The yardstick: orjson of a prebuilt dict in an SSE frame."""
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def delta_variants(inputs: list[tuple[str, int, str]]) -> dict[str, Callable[[], list[bytes]]]:
    """The text-delta variants over the same inputs."""
    dicts = [delta_dict(*args) for args in inputs]

    def ours() -> list[bytes]:
        return [encode_event(TextDelta(i, c, d)) for i, c, d in inputs]

    def ours_pydantic_event() -> list[bytes]:
        return [
            encode_event(
                ThreadItemUpdatedEvent(
                    item_id=i, update=ContentPartTextDelta(content_index=c, delta=d)
                )
            )
            for i, c, d in inputs
        ]

    def pydantic_way() -> list[bytes]:
        return [
            pydantic_frame(
                ThreadItemUpdatedEvent(
                    item_id=i, update=ContentPartTextDelta(content_index=c, delta=d)
                )
            )
            for i, c, d in inputs
        ]

    def yardstick() -> list[bytes]:
        return [orjson_frame(d) for d in dicts]

    return {
        "ours: encode_event(TextDelta)": ours,
        "ours: encode_event(pydantic event)": ours_pydantic_event,
        PYDANTIC_BUILD: pydantic_way,
        "yardstick: orjson.dumps(prebuilt dict)": yardstick,
    }


def widget_variants(fields: list[dict[str, Any]]) -> dict[str, Callable[[], list[bytes]]]:
    """The widget-item variants over the same inputs."""
    events = [build_widget_event(f) for f in fields]
    dicts = [widget_dict(f) for f in fields]
    return {
        "ours: encode_event(prebuilt event)": lambda: [encode_event(e) for e in events],
        "ours: build + encode_event": lambda: [encode_event(build_widget_event(f)) for f in fields],
        PYDANTIC_PREBUILT: lambda: [pydantic_frame(e) for e in events],
        PYDANTIC_BUILD: lambda: [pydantic_frame(build_widget_event(f)) for f in fields],
        "yardstick: orjson.dumps(prebuilt dict)": lambda: [orjson_frame(d) for d in dicts],
    }


# --- Measuring -----------------------------------------------------------------------------


def check_identical(variants: dict[str, Callable[[], list[bytes]]]) -> None:
    """Every variant must write the same bytes, or the comparison means nothing."""
    outputs = {name: run() for name, run in variants.items()}
    reference = next(iter(outputs.values()))
    for name, frames in outputs.items():
        if frames != reference:
            first = next(
                i for i, (a, b) in enumerate(zip(frames, reference, strict=True)) if a != b
            )
            raise SystemExit(f"{name} differs at frame {first}: {frames[first][:200]!r}")


def measure(
    variants: dict[str, Callable[[], list[bytes]]], count: int, runs: int
) -> dict[str, dict[str, float]]:
    """Time every variant `runs` times, interleaved round by round (rotating the order) so a
    burst of machine noise hits all variants alike; per variant: median, min and max."""
    for run in variants.values():
        run()  # warm-up
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    results: dict[str, dict[str, float]] = {}
    for name, samples in times.items():
        median = statistics.median(samples)
        results[name] = {
            "events": count,
            "runs": runs,
            "seconds_median": median,
            "seconds_min": min(samples),
            "seconds_max": max(samples),
            "events_per_s": count / median,
            "us_per_event_median": median / count * 1e6,
            "us_per_event_min": min(samples) / count * 1e6,
            "us_per_event_max": max(samples) / count * 1e6,
        }
    return results


def run_case(
    title: str, variants: dict[str, Callable[[], list[bytes]]], count: int, runs: int
) -> dict[str, Any]:
    """Check, time and return one case's results (ratios against the pydantic way)."""
    check_identical(variants)
    results = measure(variants, count, runs)
    build = results[PYDANTIC_BUILD]
    prebuilt = results.get(PYDANTIC_PREBUILT, build)
    for name, stats in results.items():
        # "build" variants construct the event in the loop; the rest start from a prebuilt one.
        same_regime = (
            build
            if ("build" in name or "TextDelta" in name or "pydantic event" in name)
            else prebuilt
        )
        stats["speedup_vs_pydantic_build"] = (
            build["us_per_event_median"] / stats["us_per_event_median"]
        )
        stats["speedup_vs_pydantic_same_regime"] = (
            same_regime["us_per_event_median"] / stats["us_per_event_median"]
        )
    return {"case": title, "events": count, "variants": results}


def print_case(case: dict[str, Any]) -> None:
    """One case as a table."""
    print(f"\n{case['case']} ({case['events']:,} events)")
    print(
        f"{'variant':42} {'events/s':>12} {'us/event median (min-max)':>28} "
        f"{'x pydantic build':>17} {'x pydantic same regime':>23}"
    )
    for name, s in case["variants"].items():
        spread = (
            f"{s['us_per_event_median']:.3f} "
            f"({s['us_per_event_min']:.3f}-{s['us_per_event_max']:.3f})"
        )
        print(
            f"{name:42} {s['events_per_s']:>12,.0f} {spread:>28} "
            f"{s['speedup_vs_pydantic_build']:>16.2f}x {s['speedup_vs_pydantic_same_regime']:>22.2f}x"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run both cases, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=DELTAS)
    parser.add_argument("--widgets", type=int, default=WIDGETS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")

    deltas = run_case(
        "text deltas", delta_variants(delta_inputs(args.deltas)), args.deltas, args.runs
    )
    widgets = run_case(
        f"widget items (ListView, {ROWS} rows of Text + Button)",
        widget_variants([widget_fields(n) for n in range(args.widgets)]),
        args.widgets,
        args.runs,
    )
    for case in (deltas, widgets):
        print_case(case)

    hot = deltas["variants"]["ours: encode_event(TextDelta)"]["speedup_vs_pydantic_build"]
    verdict = "meets" if hot >= TARGET_SPEEDUP else "MISSES"
    print(
        f"\ntext-delta hot path: {hot:.2f}x the pydantic way ({verdict} the {TARGET_SPEEDUP:g}x target)"
    )

    results = {
        "benchmark": "codec",
        "when": datetime.now(UTC).isoformat(),
        "machine": {
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "pydantic": pydantic.VERSION,
            "orjson": orjson.__version__,
        },
        "target_speedup": TARGET_SPEEDUP,
        "text_delta_speedup": hot,
        "cases": [deltas, widgets],
    }
    args.output.write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
