"""B1: stream events to SSE bytes, against orjson-dumping an equivalent prebuilt dict.

Text deltas go through `encode_event(TextDelta)` (what the adapter yields); widgets through
`encode_event(ThreadItemDoneEvent(item=WidgetItem(ListView of 20 rows)))`. The baseline frames
`orjson.dumps` of the same event's JSON value, prebuilt as a dict: `b"data: " + json + b"\\n\\n"`.
Events are built before the clock starts: only encoding is timed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson

from benchmarks.common import summary
from chatkit_proto.actions import ActionConfig
from chatkit_proto.codec import dump_plain, encode_event
from chatkit_proto.events import TextDelta, ThreadItemDoneEvent
from chatkit_proto.items import WidgetItem
from chatkit_proto.sse import frame
from chatkit_proto.widgets import Button, ListView, ListViewItem, Text

DELTAS = 100_000
WIDGETS = 1_000


def widget_event(n: int) -> ThreadItemDoneEvent:
    """A widget item holding a ListView of 20 rows, each a text and two buttons."""
    rows = [
        ListViewItem(
            key=f"t{row}",
            children=[
                Text(value=f"Task {row} of list {n}"),
                Button(
                    label="Done",
                    onClickAction=ActionConfig(type="task.complete", payload={"task_id": row}),
                ),
                Button(
                    label="Toggle",
                    onClickAction=ActionConfig(
                        type="task.toggle", payload={"task_id": row}, streaming=False
                    ),
                ),
            ],
        )
        for row in range(20)
    ]
    item = WidgetItem(
        id=f"wig_{n:06}",
        thread_id="thr_bench",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        widget=ListView(children=rows),
    )
    return ThreadItemDoneEvent(item=item)


def _time_per_event(encode: Any, events: list[Any]) -> float:
    """Microseconds per event of `encode` over all events."""
    started = time.perf_counter()
    for event in events:
        encode(event)
    return (time.perf_counter() - started) / len(events) * 1e6


def _baseline(value: dict[str, Any]) -> bytes:
    return frame(orjson.dumps(value))


def run(runs: int, scale: float = 1.0) -> dict[str, Any]:
    """Median of `runs` runs of each figure, with the ratio to orjson taken per run."""
    deltas = [TextDelta("msg_t0_0", 0, f"w{n % 100} ") for n in range(int(DELTAS * scale))]
    delta_dicts = [orjson.loads(encode_event(d)[6:]) for d in deltas]
    widgets = [widget_event(n) for n in range(int(WIDGETS * scale))]
    widget_dicts = [dump_plain(w) for w in widgets]
    assert encode_event(deltas[0]) == _baseline(delta_dicts[0])
    assert encode_event(widgets[0]) == _baseline(widget_dicts[0])
    figures: dict[str, list[float]] = {
        "delta_us": [],
        "delta_orjson_us": [],
        "delta_ratio": [],
        "widget_us": [],
        "widget_orjson_us": [],
        "widget_ratio": [],
    }
    for _ in range(runs):
        ours = _time_per_event(encode_event, deltas)
        base = _time_per_event(_baseline, delta_dicts)
        figures["delta_us"].append(ours)
        figures["delta_orjson_us"].append(base)
        figures["delta_ratio"].append(ours / base)
        ours = _time_per_event(encode_event, widgets)
        base = _time_per_event(_baseline, widget_dicts)
        figures["widget_us"].append(ours)
        figures["widget_orjson_us"].append(base)
        figures["widget_ratio"].append(ours / base)
    return {
        "events": {"text_deltas": len(deltas), "widget_items": len(widgets)},
        "widget_frame_bytes": len(encode_event(widgets[0])),
        **{name: summary(values, 3) for name, values in figures.items()},
    }
