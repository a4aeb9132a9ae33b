"""Widget diffing (SPEC §10.2): appends become value deltas, anything else a root update."""

from __future__ import annotations

from itertools import pairwise

import pytest

from chatkit_proto import widgets as w
from chatkit_proto.actions import ActionConfig
from chatkit_proto.updates import WidgetRootUpdated, WidgetStreamingTextValueDelta
from chatkit_proto.widget_diff import diff_widgets


def card(*children: w.WidgetComponent, **props: object) -> w.Card:
    return w.Card(children=list(children), **props)


def delta(component_id: str, text: str, done: bool = True) -> WidgetStreamingTextValueDelta:
    return WidgetStreamingTextValueDelta(component_id=component_id, delta=text, done=done)


def test_spec_worked_example_streams_three_value_deltas() -> None:
    states = [card(w.Text(id="t", value=v)) for v in ("", "Hel", "Hello,", "Hello, world")]
    diffs = [diff_widgets(b, a) for b, a in pairwise(states)]
    assert diffs == [[delta("t", "Hel")], [delta("t", "lo,")], [delta("t", " world")]]


def test_done_is_false_while_the_component_streams() -> None:
    before = card(w.Markdown(id="m", value="a", streaming=True))
    after = card(w.Markdown(id="m", value="ab", streaming=True))
    assert diff_widgets(before, after) == [delta("m", "b", done=False)]


def test_deltas_follow_tree_order_and_skip_unchanged_components() -> None:
    before = card(
        w.Col(children=[w.Text(id="a", value="1"), w.Text(id="b", value="x")]),
        w.Markdown(id="c", value="p"),
    )
    after = card(
        w.Col(children=[w.Text(id="a", value="12"), w.Text(id="b", value="x")]),
        w.Markdown(id="c", value="pq"),
    )
    assert diff_widgets(before, after) == [delta("a", "2"), delta("c", "q")]


def test_identical_states_give_no_update() -> None:
    state = card(w.Text(id="t", value="same"), w.Button(label="Go"))
    assert diff_widgets(state, state.model_copy(deep=True)) == []


def test_append_to_text_without_id_gives_an_empty_diff() -> None:
    assert diff_widgets(card(w.Text(value="Hel")), card(w.Text(value="Hello"))) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(card(w.Text(id="t", value="abc")), card(w.Text(id="t", value="xyz")), id="text replaced"),
        pytest.param(card(w.Text(id="t", value="abc")), card(w.Text(id="t", value="ab")), id="text shortened"),
        pytest.param(card(w.Text(id="t", value="a", streaming=True)), card(w.Text(id="t", value="ab", streaming=False)), id="streaming flipped"),
        pytest.param(card(w.Text(id="t", value="a")), card(w.Text(id="t", value="a"), w.Divider()), id="child added"),
        pytest.param(card(w.Text(id="t", value="a"), w.Divider()), card(w.Text(id="t", value="a")), id="child removed"),
        pytest.param(card(w.Text(id="t", value="a")), card(w.Text(id="u", value="a")), id="id changed"),
        pytest.param(card(w.Text(key="k1", value="a")), card(w.Text(key="k2", value="a")), id="key changed"),
        pytest.param(card(w.Text(value="a")), card(w.Text(key="k", value="a")), id="key set"),
        pytest.param(card(w.Text(id="t", key="k1", value="a")), card(w.Text(id="t", key="k2", value="ab")), id="key changed with an append"),
        pytest.param(w.ListView(children=[w.ListViewItem(key="r1", children=[])]), w.ListView(children=[w.ListViewItem(key="r2", children=[])]), id="row key changed"),
        pytest.param(card(w.Text(id="t", value="a")), card(w.Markdown(id="t", value="a")), id="type changed"),
        pytest.param(card(w.Text(id="t", value="a")), card(w.Text(id="t", value="a", italic=True)), id="style prop set"),
        pytest.param(card(w.Text(id="t", value="a"), size="sm"), card(w.Text(id="t", value="a"), size="lg"), id="root prop changed"),
        pytest.param(card(w.Title(value="Hel")), card(w.Title(value="Hello")), id="non-streaming text grew"),
        pytest.param(
            card(w.Button(label="Go", onClickAction=ActionConfig(type="a", payload={"n": 1}))),
            card(w.Button(label="Go", onClickAction=ActionConfig(type="a", payload={"n": 2}))),
            id="nested action payload",
        ),
        pytest.param(card(w.DynamicComponent(type="Gauge", level=1)), card(w.DynamicComponent(type="Gauge", level=2)), id="dynamic extra prop"),
        pytest.param(
            card(w.Text(id="t", value="a"), w.Text(id="u", value="b")),
            card(w.Text(id="t", value="ab"), w.Text(id="u", value="c")),
            id="one append one replace",
        ),
    ],
)  # fmt: skip
def test_any_other_change_replaces_the_whole_root(
    before: w.WidgetRoot, after: w.WidgetRoot
) -> None:
    assert diff_widgets(before, after) == [WidgetRootUpdated(widget=after)]


def streaming_text(value: str) -> dict[str, str]:
    """A plain JSON value that happens to look like a streaming text component."""
    return {"type": "Text", "value": value}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            card(w.Button(onClickAction=ActionConfig(type="a", payload=streaming_text("a")))),
            card(w.Button(onClickAction=ActionConfig(type="a", payload=streaming_text("ab")))),
            id="action payload",
        ),
        pytest.param(
            card(w.DynamicComponent(type="Gauge", meta={"key": streaming_text("a")})),
            card(w.DynamicComponent(type="Gauge", meta={"key": streaming_text("ab")})),
            id="pass-through prop",
        ),
        pytest.param(
            card(w.Chart(data=[streaming_text("1")], series=[], xAxis="type")),
            card(w.Chart(data=[streaming_text("12")], series=[], xAxis="type")),
            id="chart row",
        ),
    ],
)
def test_only_children_are_compared_as_components(before: w.Card, after: w.Card) -> None:
    # The reference recurses into component values only; a dict elsewhere is one value, so
    # an "append" inside it is a change like any other.
    assert diff_widgets(before, after) == [WidgetRootUpdated(widget=after)]


def test_root_type_change_replaces_the_root() -> None:
    before = card(w.Text(value="a"))
    after = w.ListView(children=[w.ListViewItem(children=[w.Text(value="a")])])
    assert diff_widgets(before, after) == [WidgetRootUpdated(widget=after)]


def test_text_under_a_transition_is_invisible_to_deltas() -> None:
    before = card(w.Transition(children=w.Text(id="t", value="Hel")))
    after = card(w.Transition(children=w.Text(id="t", value="Hello")))
    assert diff_widgets(before, after) == []


def test_text_under_a_transition_still_forces_replacement_when_rewritten() -> None:
    before = card(w.Transition(children=w.Text(id="t", value="Hel")))
    after = card(w.Transition(children=w.Text(id="t", value="Bye")))
    assert diff_widgets(before, after) == [WidgetRootUpdated(widget=after)]


def test_non_append_change_behind_a_duplicate_id_raises() -> None:
    # With two components sharing an id, step 1 passes but step 2 pairs the second "t" of
    # `after` with the last "t" of `before`, whose value is not a prefix.
    before = card(w.Text(id="t", value="one"), w.Text(id="t", value="two"))
    after = card(w.Text(id="t", value="one!"), w.Text(id="t", value="two"))
    with pytest.raises(ValueError, match="only append"):
        diff_widgets(before, after)


def test_vanished_id_replaces_the_root() -> None:
    before = card(w.Text(id="t", value="a"), w.Text(id="u", value="b"))
    after = card(w.Text(id="t", value="ab"), w.Text(value="b"))
    assert diff_widgets(before, after) == [WidgetRootUpdated(widget=after)]
