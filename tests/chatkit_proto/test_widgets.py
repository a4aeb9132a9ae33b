"""Widget models (SPEC §2.7, §13): round trips, pass-through, dispatch and rejection."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import TypeAdapter, ValidationError

from chatkit_proto import widget_values as wv
from chatkit_proto import widgets as w
from chatkit_proto.actions import ActionConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
ROOT = TypeAdapter(w.WidgetRoot)
COMPONENT = TypeAdapter(w.WidgetComponent)


def dump(value: Any) -> Any:
    """The wire form, through the JSON serializer the project uses."""
    return json.loads(ROOT.dump_json(value, by_alias=True, exclude_none=True))


def dump_component(value: Any) -> Any:
    return json.loads(COMPONENT.dump_json(value, by_alias=True, exclude_none=True))


def round_trip(data: dict[str, Any]) -> Any:
    return dump(ROOT.validate_python(data))


# --- Reference fixtures ------------------------------------------------------------------


def _widgets_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every `widget` object (a dict with a `type`) anywhere in a JSON value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "widget" and isinstance(value, dict) and "type" in value:
                yield value
            else:
                yield from _widgets_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _widgets_in(value)


def _raw_sse_widgets(fixture: dict[str, Any]) -> Iterator[str]:
    """The `widget` members of the raw SSE bodies, as the exact JSON text the SDK wrote."""
    for exchange in fixture["exchanges"]:
        raw = exchange.get("raw")
        if not isinstance(raw, str):
            continue
        for line in raw.splitlines():
            if line.startswith("data: "):
                for found in _widgets_in(json.loads(line[len("data: ") :])):
                    yield json.dumps(found, separators=(",", ":"), ensure_ascii=False)


FIXTURE_NAMES = ["widget_from_tool", "custom_action"]


def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_reference_widgets_round_trip(name: str) -> None:
    found = list(_widgets_in(_load(name)))
    assert len(found) >= 2
    for original in found:
        root = ROOT.validate_python(original)
        assert isinstance(root, w.ListView)
        assert root.model_dump(mode="json", by_alias=True, exclude_none=True) == original
        assert dump(root) == original
        assert dump(ROOT.validate_json(json.dumps(original))) == original


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_reference_widgets_are_reproduced_byte_for_byte(name: str) -> None:
    raw = list(_raw_sse_widgets(_load(name)))
    assert raw
    for text in raw:
        out = ROOT.dump_json(ROOT.validate_json(text), by_alias=True, exclude_none=True)
        assert out.decode() == text


def test_reference_widget_parses_into_typed_components() -> None:
    original = next(_widgets_in(_load("widget_from_tool")))
    root = ROOT.validate_python(original)
    assert isinstance(root, w.ListView)
    item = root.children[0]
    assert isinstance(item, w.ListViewItem) and item.key == "t1"
    text, button = item.children[0], item.children[1]
    assert isinstance(text, w.Text) and text.value == "Buy milk"
    assert isinstance(button, w.Button) and isinstance(button.onClickAction, ActionConfig)
    assert button.onClickAction.payload == {"task_id": "t1"}


# --- Output rules (SPEC §2.7) ------------------------------------------------------------


def test_type_defaults_to_the_class_name() -> None:
    names = w.ROOT_TYPES | w.COMPONENT_TYPES | w.PARENT_ONLY_TYPES
    for name in names:
        cls = getattr(w, name.replace(".", ""))  # `Table.Row` is the class TableRow
        assert cls.model_fields["type"].default == name
    assert w.Text(value="x").type == "Text"
    assert w.Divider().type == "Divider"


def test_null_props_are_omitted_and_type_is_kept() -> None:
    card = w.Card(children=[w.Text(value="x"), w.Divider(), w.Transition()])
    expected = {
        "type": "Card",
        "children": [{"type": "Text", "value": "x"}, {"type": "Divider"}, {"type": "Transition"}],
    }
    assert dump(card) == expected
    assert card.model_dump(mode="json", by_alias=True, exclude_none=True) == expected
    assert round_trip(expected) == expected


def test_action_config_defaults_are_written_out() -> None:
    button = w.Button(label="Go", onClickAction=ActionConfig(type="go"))
    assert dump_component(button)["onClickAction"] == {
        "type": "go",
        "handler": "server",
        "loadingBehavior": "auto",
        "streaming": True,
    }
    parsed = round_trip(
        {
            "type": "Card",
            "children": [{"type": "Form", "onSubmitAction": {"type": "save"}}],
            "confirm": {"label": "OK", "action": {"type": "ok", "handler": "client"}},
        }
    )
    assert parsed["children"][0]["onSubmitAction"] == {
        "type": "save",
        "handler": "server",
        "loadingBehavior": "auto",
        "streaming": True,
    }
    assert parsed["confirm"]["action"] == {
        "type": "ok",
        "handler": "client",
        "loadingBehavior": "auto",
        "streaming": True,
    }


def test_null_payload_is_omitted_but_nulls_inside_payloads_are_kept() -> None:
    assert dump_component(w.Button(onClickAction=ActionConfig(type="a", payload=None))) == {
        "type": "Button",
        "onClickAction": {
            "type": "a",
            "handler": "server",
            "loadingBehavior": "auto",
            "streaming": True,
        },
    }
    data = {
        "type": "Card",
        "children": [
            {
                "type": "Select",
                "name": "s",
                "options": [{"value": "a", "label": "A"}],
                "onChangeAction": {
                    "type": "pick",
                    "payload": {"x": None, "y": [None]},
                    "handler": "server",
                    "loadingBehavior": "none",
                    "streaming": False,
                },
            }
        ],
    }
    assert round_trip(data) == data


def test_wire_names_are_accepted_and_emitted() -> None:
    data = {
        "type": "Card",
        "asForm": True,
        "children": [
            {"type": "Text", "value": "a", "lineThrough": True, "textAlign": "end", "minLines": 2},
            {"type": "Label", "value": "Name", "fieldName": "user.name"},
            {"type": "Input", "name": "user.name", "inputType": "email", "defaultValue": "x"},
            {
                "type": "Textarea",
                "name": "t",
                "autoResize": True,
                "maxRows": 4,
                "gutterSize": "2xs",
            },
            {"type": "Checkbox", "name": "c", "defaultChecked": False},
            {
                "type": "RadioGroup",
                "name": "r",
                "ariaLabel": "R",
                "direction": "row",
                "options": [{"label": "A", "value": "a", "disabled": True}],
            },
            {
                "type": "Button",
                "iconStart": "plus",
                "iconEnd": "lucide:rocket",
                "iconSize": "2xl",
                "submit": True,
                "style": "primary",
                "color": "caution",
                "variant": "ghost",
                "size": "3xs",
                "uniform": True,
                "block": True,
            },
            {
                "type": "Image",
                "src": "https://x/y.png",
                "minHeight": 10,
                "maxWidth": "50%",
                "aspectRatio": 1.5,
                "position": "top left",
                "fit": "scale-down",
                "radius": "100%",
            },
            {"type": "Spacer", "minSize": 8},
        ],
    }
    assert round_trip(data) == data
    card = ROOT.validate_python(data)
    assert isinstance(card, w.Card) and card.asForm is True
    assert isinstance(card.children[0], w.Text) and card.children[0].lineThrough is True


def test_helper_shapes_round_trip() -> None:
    data = {
        "type": "Card",
        "key": "k",
        "id": "c1",
        "size": "full",
        "theme": "dark",
        "collapsed": False,
        "background": {"dark": "gray-900", "light": "surface-secondary"},
        "padding": {"x": 4, "top": "1rem"},
        "status": {"text": "Saved", "favicon": "https://example.com/f.ico", "frame": True},
        "border": {"top": 1, "bottom": {"size": 2, "color": "subtle", "style": "dashed"}},
        "confirm": {
            "label": "Yes",
            "action": {
                "type": "y",
                "handler": "server",
                "loadingBehavior": "container",
                "streaming": True,
            },
        },
        "children": [
            {
                "type": "Box",
                "direction": "col",
                "gap": 2,
                "padding": 3,
                "margin": {"y": "2px"},
                "border": {"size": 1},
                "wrap": "wrap-reverse",
                "justify": "evenly",
                "align": "baseline",
                "flex": 1,
                "radius": "2xl",
                "children": [{"type": "Title", "value": "T", "size": "5xl", "weight": "semibold"}],
            },
            {"type": "Row", "border": 2, "children": []},
            {"type": "Col"},
            {
                "type": "Badge",
                "label": "New",
                "color": "discovery",
                "variant": "soft",
                "pill": True,
            },
            {"type": "Text", "value": "e", "editable": {"name": "n", "autoComplete": "off"}},
            {"type": "Text", "value": "f", "editable": False, "color": {"dark": "a", "light": "b"}},
        ],
    }
    assert round_trip(data) == data
    card = ROOT.validate_python(data)
    assert isinstance(card, w.Card)
    assert isinstance(card.status, wv.WidgetStatusWithFavicon)
    assert isinstance(card.border, wv.Borders)
    with_icon = ROOT.validate_python(
        {"type": "ListView", "children": [], "status": {"text": "s", "icon": "bolt"}}
    )
    assert isinstance(with_icon.status, wv.WidgetStatusWithIcon)


def test_chart_round_trips() -> None:
    data = {
        "type": "Card",
        "children": [
            {
                "type": "Chart",
                "data": [{"month": "Jan", "a": 1, "b": 2.5}, {"month": "Feb", "a": 3, "b": 4}],
                "series": [
                    {"type": "bar", "dataKey": "a", "label": "A", "stack": "s", "color": "blue"},
                    {"type": "area", "dataKey": "b", "curveType": "monotoneX"},
                    {"type": "line", "dataKey": "a", "curveType": "stepAfter"},
                ],
                "xAxis": {"dataKey": "month", "hide": False},
                "showYAxis": True,
                "barGap": 4,
                "aspectRatio": "16/9",
            },
            {"type": "Chart", "data": [], "series": [], "xAxis": "month"},
        ],
    }
    assert round_trip(data) == data
    chart = ROOT.validate_python(data).children[0]
    assert isinstance(chart, w.Chart)
    assert [type(s) for s in chart.series] == [w.BarSeries, w.AreaSeries, w.LineSeries]
    with pytest.raises(ValidationError):
        COMPONENT.validate_python(
            {"type": "Chart", "data": [], "series": [{"type": "pie", "dataKey": "a"}], "xAxis": "m"}
        )


def test_date_picker_keeps_iso_datetimes() -> None:
    data = {
        "type": "DatePicker",
        "name": "d",
        "min": "2024-01-01T00:00:00Z",
        "defaultValue": "2024-05-01T10:30:00+02:00",
        "side": "top",
        "align": "end",
    }
    picker = COMPONENT.validate_python(data)
    assert isinstance(picker, w.DatePicker)
    assert picker.min == datetime(2024, 1, 1, tzinfo=UTC)
    assert dump_component(picker) == data


def test_numbers_keep_their_json_type() -> None:
    data = {"type": "Col", "gap": 2, "height": 2.5, "width": "10", "flex": "1 1 auto"}
    out = COMPONENT.dump_json(COMPONENT.validate_python(data), exclude_none=True).decode()
    assert out == '{"type":"Col","flex":"1 1 auto","gap":2,"height":2.5,"width":"10"}'


# --- Pass-through of unknown props and types ---------------------------------------------


def test_unknown_props_survive_a_round_trip() -> None:
    data = {
        "type": "Card",
        "futureProp": {"nested": [1, "two", {"three": 3}]},
        "children": [
            {"type": "Text", "value": "x", "tooltip": "hi", "data-test": 3},
            {"type": "Button", "label": "b", "hoverStyle": {"color": "red-100"}},
        ],
    }
    assert round_trip(data) == data
    text = ROOT.validate_python(data).children[0]
    assert isinstance(text, w.Text) and text.model_extra == {"tooltip": "hi", "data-test": 3}


def test_unknown_component_types_survive_a_round_trip() -> None:
    data = {
        "type": "Card",
        "children": [
            {
                "type": "Carousel",
                "key": "car",
                "children": [
                    {
                        "type": "Carousel.Slide",
                        "caption": True,
                        "children": [{"type": "Text", "value": "slide", "id": "s"}],
                    }
                ],
            },
            {"type": "Sparkline", "points": [1, 2, 3], "children": "not components"},
            {"type": "Mystery"},
        ],
    }
    assert round_trip(data) == data
    card = ROOT.validate_python(data)
    carousel = card.children[0]
    assert isinstance(carousel, w.DynamicComponent) and carousel.key == "car"
    slide = carousel.children[0]
    assert isinstance(slide, w.DynamicComponent) and slide.model_extra == {"caption": True}
    # Known components nested under unknown ones are still typed (e.g. for text streaming).
    assert isinstance(slide.children[0], w.Text)
    assert card.children[1].children == "not components"


# --- Table (the client's types, SPEC §13.2) -------------------------------------------------

TABLE = {
    "type": "Table",
    "key": "tbl",
    "children": [
        {
            "type": "Table.Row",
            "header": True,
            "children": [
                {
                    "type": "Table.Cell",
                    "colSpan": 2,
                    "rowSpan": 1,
                    "width": "50%",
                    "padding": {"x": 4, "top": "1rem"},
                    "align": "end",
                    "vAlign": "center",
                    "colSize": "xl",
                    "children": [{"type": "Text", "value": "cell", "id": "c"}],
                },
            ],
        },
        {"type": "Table.Row", "children": [{"type": "Table.Cell"}]},
        {"type": "Table.Row"},
    ],
}


def test_table_rows_and_cells_are_typed() -> None:
    data = {"type": "Card", "children": [TABLE]}
    assert round_trip(data) == data
    table = ROOT.validate_python(data).children[0]
    assert isinstance(table, w.Table) and table.children is not None
    header = table.children[0]
    assert isinstance(header, w.TableRow) and header.header is True
    cell = header.children[0] if header.children else None
    assert isinstance(cell, w.TableCell)
    assert (cell.colSpan, cell.vAlign, cell.colSize) == (2, "center", "xl")
    assert isinstance(cell.padding, wv.Spacing) and cell.padding.x == 4
    assert cell.children is not None and isinstance(cell.children[0], w.Text)


@pytest.mark.parametrize(
    ("where", "child"),
    [
        ("Table", {"type": "Text", "value": "not a row"}),
        ("Table", {"type": "Table.Cell"}),
        ("Table.Row", {"type": "Table.Row"}),
        ("Table.Row", {"type": "Mystery"}),
    ],
)
def test_table_children_are_rows_and_row_children_cells(where: str, child: Any) -> None:
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"type": where, "children": [child]})


@pytest.mark.parametrize(
    "cell",
    [
        {"padding": 4},  # the client takes a Spacing object only
        {"align": "baseline"},
        {"vAlign": "stretch"},
        {"colSize": "2xl"},
        {"colSpan": 1.5},
    ],
)
def test_table_cell_props_follow_the_client_types(cell: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"type": "Table.Cell", **cell})


def test_dynamic_component_built_in_python_stays_dynamic() -> None:
    node = w.DynamicComponent(type="Widget.Future", size=3)
    card = w.Card(children=[node])
    assert card.children[0] is node
    assert dump(card) == {"type": "Card", "children": [{"type": "Widget.Future", "size": 3}]}


def test_known_types_are_validated_strictly() -> None:
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"type": "Text"})  # value is required
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"type": "Badge", "label": "x", "color": "pink"})
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"type": "Text", "value": "x", "editable": True})
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"noType": 1})
    with pytest.raises(ValidationError):
        COMPONENT.validate_python({"type": ["Text"], "value": "x"})


# --- Roots -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Box", "children": []},
        {"type": "Text", "value": "x"},
        {"type": "Table", "children": []},
        {"type": "ListViewItem", "children": []},
        {"type": "Mystery"},
        {"children": []},
        {"type": None},
        {"type": ["Card"], "children": []},
        "Card",
        None,
    ],
)
def test_invalid_roots_are_rejected(data: Any) -> None:
    with pytest.raises(ValidationError) as info:
        ROOT.validate_python(data)
    assert info.value.errors()[0]["type"] == "invalid_widget_root"


def test_root_rejects_a_python_component_instance() -> None:
    with pytest.raises(ValidationError):
        ROOT.validate_python(w.Text(value="x"))


def test_list_view_children_must_be_list_view_items() -> None:
    with pytest.raises(ValidationError):
        ROOT.validate_python({"type": "ListView", "children": [{"type": "Text", "value": "x"}]})
    data = {
        "type": "ListView",
        "limit": "auto",
        "children": [
            {
                "type": "ListViewItem",
                "gap": 2,
                "align": "center",
                "onClickAction": {
                    "type": "open",
                    "handler": "client",
                    "loadingBehavior": "self",
                    "streaming": True,
                },
                "children": [{"type": "Icon", "name": "star", "size": "3xl"}],
            }
        ],
    }
    assert round_trip(data) == data
    assert round_trip({"type": "ListView", "limit": 3, "children": []})["limit"] == 3


def test_basic_holds_components_and_roots() -> None:
    data = {
        "type": "Basic",
        "direction": "row",
        "gap": 1,
        "children": [
            {
                "type": "Card",
                "children": [{"type": "Markdown", "value": "**b**", "streaming": True}],
            },
            {"type": "Caption", "value": "c", "size": "lg"},
            {"type": "Table.Cell"},
            {"type": "Mystery"},
        ],
    }
    assert round_trip(data) == data
    basic = ROOT.validate_python(data)
    assert [type(c) for c in basic.children] == [w.Card, w.Caption, w.TableCell, w.DynamicComponent]


def test_transition_holds_a_single_child() -> None:
    data = {
        "type": "Card",
        "children": [{"type": "Transition", "children": {"type": "Text", "value": "t"}}],
    }
    assert round_trip(data) == data
    transition = ROOT.validate_python(data).children[0]
    assert isinstance(transition, w.Transition) and isinstance(transition.children, w.Text)


# --- ListViewItem only in ListView.children (SPEC §13.2) ------------------------------------

ITEM = {"type": "ListViewItem", "children": [{"type": "Text", "value": "row"}]}


def _placed(item: Any) -> list[Any]:
    """A root holding `item` in every other place a component can go."""
    return [
        {"type": "Card", "children": [item]},
        {"type": "Basic", "children": [item]},
        {"type": "Card", "children": [{"type": "Transition", "children": item}]},
        *(
            {"type": "Card", "children": [{"type": kind, "children": [item]}]}
            for kind in ("Box", "Row", "Col", "Form", "Table.Cell")
        ),
        {"type": "ListView", "children": [{"type": "ListViewItem", "children": [item]}]},
        {"type": "Basic", "children": [{"type": "Card", "children": [item]}]},
    ]


@pytest.mark.parametrize("data", _placed(ITEM))
def test_list_view_item_outside_a_list_view_is_rejected(data: Any) -> None:
    with pytest.raises(ValidationError) as info:
        ROOT.validate_python(data)
    (error,) = info.value.errors()
    assert error["type"] == "misplaced_widget_component"
    assert error["msg"] == "A ListViewItem is valid only in ListView.children"


def test_list_view_item_instance_outside_a_list_view_is_rejected() -> None:
    item = w.ListViewItem(children=[w.Text(value="row")])
    with pytest.raises(ValidationError, match=r"valid only in ListView\.children"):
        w.Card(children=[item])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"valid only in ListView\.children"):
        w.Transition(children=item)  # type: ignore[arg-type]
    assert w.ListView(children=[item]).children == [item]
    with pytest.raises(ValidationError, match=r"valid only in ListView\.children"):
        w.Card(children=[w.DynamicComponent(type="ListViewItem", children=[])])


def _choices(alias: Any) -> list[Any]:
    """The tagged members of a widget union, under its SerializeAsAny and Discriminator."""
    while get_origin(alias) is Annotated:
        alias = get_args(alias)[0]
    return list(get_args(alias))


@pytest.mark.parametrize("alias", [w.WidgetRoot, w.WidgetComponent, w.BasicChild])
def test_every_union_member_is_tagged_with_its_type(alias: Any) -> None:
    choices = _choices(alias)
    assert len(choices) >= len(w.ROOT_TYPES)
    for choice in choices:
        cls, tag = get_args(choice)
        expected = (
            "DynamicComponent" if cls is w.DynamicComponent else cls.model_fields["type"].default
        )
        assert tag.tag == expected


def test_root_and_component_sets() -> None:
    assert {"Card", "ListView", "Basic"} == w.ROOT_TYPES
    # SPEC §13.2's table, less ListViewItem (PARENT_ONLY_TYPES): the client's component
    # union plus Chart (SDK only).
    assert {
        "Text", "Markdown", "Title", "Caption", "Badge", "Box", "Row", "Col", "Form",
        "Divider", "Icon", "Image", "Button", "Spacer", "Select", "DatePicker", "Checkbox",
        "Input", "Textarea", "Label", "RadioGroup", "Transition", "Chart",
        "Table", "Table.Row", "Table.Cell",
    } == w.COMPONENT_TYPES  # fmt: skip
    assert {"ListViewItem"} == w.PARENT_ONLY_TYPES


# --- Schema and serializer shape ---------------------------------------------------------


def test_json_schema_is_generated() -> None:
    schema = ROOT.json_schema()
    assert {"Card", "ListView", "Basic", "Text", "DynamicComponent"} <= set(schema["$defs"])
    assert "onClickAction" in schema["$defs"]["Button"]["properties"]


def test_serialization_never_calls_python() -> None:
    for serializer in (ROOT.serializer, w.Card.__pydantic_serializer__):
        text = repr(serializer)
        assert not re.search(r"Function|TaggedUnion", text)
