"""Widget trees (SPEC §13): roots, components and the unions that dispatch on `type`.

Props are declared under their wire (camelCase) names, so a model's attributes, its
`model_fields_set` and its JSON all use the names SPEC writes. Every optional prop defaults
to None and disappears on output (SPEC §2.7); unknown props and unknown component types are
kept as they came, but a ListViewItem is accepted only in `ListView.children`, as the client
does. Value sets and helper shapes (ThemeColor, Spacing, Border, CardAction, ...) live in
`widget_values`. The unions dispatch with a Python callable while validating,
but are marked `SerializeAsAny`, so dumping a tree never calls back into Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import ConfigDict, Discriminator, Field, SerializeAsAny, Tag

from .actions import ActionConfig
from .base import JSONValue, ProtoModel
from .icons import IconName
from .widget_values import (
    Alignment,
    BadgeColor,
    BadgeSize,
    BadgeVariant,
    BorderValue,
    ButtonColor,
    ButtonIconSize,
    ButtonStyle,
    CaptionSize,
    CardAction,
    CardSize,
    Color,
    ControlSize,
    ControlVariant,
    CurveType,
    Direction,
    EditableProps,
    FlexWrap,
    FontWeight,
    GutterSize,
    IconSize,
    ImageFit,
    ImagePosition,
    InputType,
    InputVariant,
    Justification,
    Length,
    Number,
    PopoverAlign,
    PopoverSide,
    RadioOption,
    RadiusValue,
    SelectOption,
    Spacing,
    SpacingValue,
    TableCellAlign,
    TableColSize,
    TextAlign,
    TextSize,
    Theme,
    TitleSize,
    WidgetStatus,
)

__all__ = [
    "COMPONENT_TYPES", "PARENT_ONLY_TYPES", "ROOT_TYPES",
    "AreaSeries", "Badge", "BarSeries", "Basic", "BasicChild", "Box", "BoxBase", "Button",
    "Caption", "Card", "Chart", "ChartSeries", "Checkbox", "Col", "DatePicker", "Divider",
    "DynamicComponent", "Form", "Icon", "Image", "Input", "Label", "LineSeries", "ListView",
    "ListViewItem", "Markdown", "RadioGroup", "Row", "Select", "Spacer", "Table", "TableCell",
    "TableRow", "Text", "Textarea", "Title", "Transition", "WidgetComponent",
    "WidgetComponentBase", "WidgetRoot", "XAxisConfig",
]  # fmt: skip


# --- Base classes ------------------------------------------------------------------------


class WidgetComponentBase(ProtoModel):
    """Props every component and root has (`key`, `id`, `type`); extra props pass through."""

    model_config = ConfigDict(extra="allow")

    key: str | None = None
    id: str | None = None
    type: str


class DynamicComponent(WidgetComponentBase):
    """A component of a type this module does not model; all its props are kept as given."""

    children: Annotated[
        list[WidgetComponent] | WidgetComponent | JSONValue,
        Field(union_mode="left_to_right"),
    ] = None


class BoxBase(WidgetComponentBase):
    """The flex-box layout props shared by Box, Row, Col and Form ("BoxBase")."""

    children: list[WidgetComponent] | None = None
    align: Alignment | None = None
    justify: Justification | None = None
    wrap: FlexWrap | None = None
    flex: Number | str | None = None
    gap: Length | None = None
    height: Length | None = None
    width: Length | None = None
    size: Length | None = None
    minHeight: Length | None = None
    minWidth: Length | None = None
    minSize: Length | None = None
    maxHeight: Length | None = None
    maxWidth: Length | None = None
    maxSize: Length | None = None
    padding: SpacingValue | None = None
    margin: SpacingValue | None = None
    border: BorderValue | None = None
    radius: RadiusValue | None = None
    background: Color | None = None
    aspectRatio: Number | str | None = None


# --- Roots (SPEC §13.1) ------------------------------------------------------------------


class Card(WidgetComponentBase):
    """A self-contained card, optionally a form with confirm/cancel footer buttons."""

    type: Literal["Card"] = "Card"
    children: list[WidgetComponent]
    asForm: bool | None = None
    background: Color | None = None
    size: CardSize | None = None
    padding: SpacingValue | None = None
    status: WidgetStatus | None = None
    collapsed: bool | None = None
    confirm: CardAction | None = None
    cancel: CardAction | None = None
    theme: Theme | None = None
    border: BorderValue | None = None


class ListView(WidgetComponentBase):
    """A list of ListViewItems with built-in "show more" beyond `limit`."""

    type: Literal["ListView"] = "ListView"
    children: list[ListViewItem]
    limit: int | Literal["auto"] | None = None
    status: WidgetStatus | None = None
    theme: Theme | None = None


class Basic(WidgetComponentBase):
    """A minimal container, meant for entity previews; may hold components or roots."""

    type: Literal["Basic"] = "Basic"
    children: list[BasicChild]
    theme: Theme | None = None
    direction: Direction | None = None
    gap: Length | None = None
    padding: SpacingValue | None = None
    align: Alignment | None = None
    justify: Justification | None = None


# --- Text components ---------------------------------------------------------------------


class Text(WidgetComponentBase):
    """Plain text; streamable by `id` (SPEC §13.3), optionally editable in place."""

    type: Literal["Text"] = "Text"
    value: str
    streaming: bool | None = None
    italic: bool | None = None
    lineThrough: bool | None = None
    color: Color | None = None
    weight: FontWeight | None = None
    width: Length | None = None
    size: TextSize | None = None
    textAlign: TextAlign | None = None
    truncate: bool | None = None
    minLines: int | None = None
    maxLines: int | None = None
    editable: Literal[False] | EditableProps | None = None


class Markdown(WidgetComponentBase):
    """Markdown text; streamable by `id` (SPEC §13.3)."""

    type: Literal["Markdown"] = "Markdown"
    value: str
    streaming: bool | None = None


class Title(WidgetComponentBase):
    """A heading."""

    type: Literal["Title"] = "Title"
    value: str
    color: Color | None = None
    weight: FontWeight | None = None
    size: TitleSize | None = None
    textAlign: TextAlign | None = None
    truncate: bool | None = None
    maxLines: int | None = None


class Caption(WidgetComponentBase):
    """Small secondary text."""

    type: Literal["Caption"] = "Caption"
    value: str
    color: Color | None = None
    weight: FontWeight | None = None
    size: CaptionSize | None = None
    textAlign: TextAlign | None = None
    truncate: bool | None = None
    maxLines: int | None = None


class Badge(WidgetComponentBase):
    """A small status label."""

    type: Literal["Badge"] = "Badge"
    label: str
    color: BadgeColor | None = None
    variant: BadgeVariant | None = None
    size: BadgeSize | None = None
    pill: bool | None = None


class Label(WidgetComponentBase):
    """A label for the form field named by `fieldName`."""

    type: Literal["Label"] = "Label"
    value: str
    fieldName: str
    size: TextSize | None = None
    weight: FontWeight | None = None
    textAlign: TextAlign | None = None
    color: Color | None = None


# --- Layout components -------------------------------------------------------------------


class Box(BoxBase):
    """A flex container with a chosen direction."""

    type: Literal["Box"] = "Box"
    direction: Direction | None = None


class Row(BoxBase):
    """A horizontal flex container."""

    type: Literal["Row"] = "Row"


class Col(BoxBase):
    """A vertical flex container."""

    type: Literal["Col"] = "Col"


class Form(BoxBase):
    """A container whose named inputs feed the payload of `onSubmitAction` (SPEC §13.4)."""

    type: Literal["Form"] = "Form"
    onSubmitAction: ActionConfig | None = None
    direction: Direction | None = None


class Divider(WidgetComponentBase):
    """A horizontal rule."""

    type: Literal["Divider"] = "Divider"
    color: Color | None = None
    size: Length | None = None
    spacing: Length | None = None
    flush: bool | None = None


class Spacer(WidgetComponentBase):
    """Flexible empty space inside a flex container."""

    type: Literal["Spacer"] = "Spacer"
    minSize: Length | None = None


class ListViewItem(WidgetComponentBase):
    """One row of a ListView (valid only as a direct child of ListView)."""

    type: Literal["ListViewItem"] = "ListViewItem"
    children: list[WidgetComponent]
    onClickAction: ActionConfig | None = None
    gap: Length | None = None
    align: Alignment | None = None


class Transition(WidgetComponentBase):
    """Animates changes of its single child (`children` is one component, not a list)."""

    type: Literal["Transition"] = "Transition"
    children: WidgetComponent | None = None


# --- Table (client type only: SPEC §13.2) -------------------------------------------------


class TableCell(WidgetComponentBase):
    """One cell of a table row, holding components."""

    type: Literal["Table.Cell"] = "Table.Cell"
    children: list[WidgetComponent] | None = None
    width: Length | None = None
    padding: Spacing | None = None
    colSpan: int | None = None
    rowSpan: int | None = None
    align: TableCellAlign | None = None
    vAlign: TableCellAlign | None = None
    colSize: TableColSize | None = None


class TableRow(WidgetComponentBase):
    """One row of a table; `header` marks a heading row."""

    type: Literal["Table.Row"] = "Table.Row"
    children: list[TableCell] | None = None
    header: bool | None = None


class Table(WidgetComponentBase):
    """A table of rows of cells."""

    type: Literal["Table"] = "Table"
    children: list[TableRow] | None = None


# --- Media -------------------------------------------------------------------------------


class Icon(WidgetComponentBase):
    """An icon by name (SPEC §14)."""

    type: Literal["Icon"] = "Icon"
    name: IconName
    color: Color | None = None
    size: IconSize | None = None


class Image(WidgetComponentBase):
    """An image by URL."""

    type: Literal["Image"] = "Image"
    src: str
    alt: str | None = None
    fit: ImageFit | None = None
    position: ImagePosition | None = None
    radius: RadiusValue | None = None
    frame: bool | None = None
    flush: bool | None = None
    height: Length | None = None
    width: Length | None = None
    size: Length | None = None
    minHeight: Length | None = None
    minWidth: Length | None = None
    minSize: Length | None = None
    maxHeight: Length | None = None
    maxWidth: Length | None = None
    maxSize: Length | None = None
    margin: SpacingValue | None = None
    background: Color | None = None
    aspectRatio: Number | str | None = None
    flex: Number | str | None = None


# --- Controls ----------------------------------------------------------------------------


class Button(WidgetComponentBase):
    """A button; `submit: true` submits the enclosing form."""

    type: Literal["Button"] = "Button"
    submit: bool | None = None
    label: str | None = None
    onClickAction: ActionConfig | None = None
    iconStart: IconName | None = None
    iconEnd: IconName | None = None
    style: ButtonStyle | None = None
    iconSize: ButtonIconSize | None = None
    color: ButtonColor | None = None
    variant: ControlVariant | None = None
    size: ControlSize | None = None
    pill: bool | None = None
    uniform: bool | None = None
    block: bool | None = None
    disabled: bool | None = None


class Select(WidgetComponentBase):
    """A drop-down choice; search is shown by default when there are more than 15 options."""

    type: Literal["Select"] = "Select"
    name: str
    options: list[SelectOption]
    onChangeAction: ActionConfig | None = None
    placeholder: str | None = None
    defaultValue: str | None = None
    variant: ControlVariant | None = None
    size: ControlSize | None = None
    pill: bool | None = None
    block: bool | None = None
    clearable: bool | None = None
    disabled: bool | None = None
    searchable: bool | None = None


class DatePicker(WidgetComponentBase):
    """A date input; `defaultValue`, `min` and `max` are ISO-8601 datetimes."""

    type: Literal["DatePicker"] = "DatePicker"
    name: str
    onChangeAction: ActionConfig | None = None
    placeholder: str | None = None
    defaultValue: datetime | None = None
    min: datetime | None = None
    max: datetime | None = None
    variant: ControlVariant | None = None
    size: ControlSize | None = None
    side: PopoverSide | None = None
    align: PopoverAlign | None = None
    pill: bool | None = None
    block: bool | None = None
    clearable: bool | None = None
    disabled: bool | None = None


class Checkbox(WidgetComponentBase):
    """A checkbox."""

    type: Literal["Checkbox"] = "Checkbox"
    name: str
    label: str | None = None
    defaultChecked: bool | None = None
    onChangeAction: ActionConfig | None = None
    disabled: bool | None = None
    required: bool | None = None


class Input(WidgetComponentBase):
    """A single-line text input."""

    type: Literal["Input"] = "Input"
    name: str
    inputType: InputType | None = None
    defaultValue: str | None = None
    required: bool | None = None
    pattern: str | None = None
    placeholder: str | None = None
    allowAutofillExtensions: bool | None = None
    autoSelect: bool | None = None
    autoFocus: bool | None = None
    disabled: bool | None = None
    variant: InputVariant | None = None
    size: ControlSize | None = None
    gutterSize: GutterSize | None = None
    pill: bool | None = None


class Textarea(WidgetComponentBase):
    """A multi-line text input."""

    type: Literal["Textarea"] = "Textarea"
    name: str
    defaultValue: str | None = None
    required: bool | None = None
    pattern: str | None = None
    placeholder: str | None = None
    autoSelect: bool | None = None
    autoFocus: bool | None = None
    disabled: bool | None = None
    variant: InputVariant | None = None
    size: ControlSize | None = None
    gutterSize: GutterSize | None = None
    rows: int | None = None
    autoResize: bool | None = None
    maxRows: int | None = None
    allowAutofillExtensions: bool | None = None


class RadioGroup(WidgetComponentBase):
    """A set of mutually exclusive options."""

    type: Literal["RadioGroup"] = "RadioGroup"
    name: str
    options: list[RadioOption] | None = None
    ariaLabel: str | None = None
    onChangeAction: ActionConfig | None = None
    defaultValue: str | None = None
    direction: Direction | None = None
    disabled: bool | None = None
    required: bool | None = None


# --- Chart (SDK only; absent from the 1.9.0 client types) --------------------------------


class _Series(ProtoModel):
    """What every chart series has: the data key it plots, its label and colour."""

    label: str | None = None
    dataKey: str
    color: Color | None = None


class BarSeries(_Series):
    """A bar series; series with the same `stack` are stacked."""

    type: Literal["bar"] = "bar"
    stack: str | None = None


class AreaSeries(_Series):
    """An area series."""

    type: Literal["area"] = "area"
    stack: str | None = None
    curveType: CurveType | None = None


class LineSeries(_Series):
    """A line series."""

    type: Literal["line"] = "line"
    curveType: CurveType | None = None


ChartSeries: TypeAlias = Annotated[BarSeries | AreaSeries | LineSeries, Field(discriminator="type")]
"""One chart series, discriminated by `type` (`bar`, `area`, `line`)."""


class XAxisConfig(ProtoModel):
    """The x axis: which data field it reads, whether it is hidden, whether labels show."""

    dataKey: str
    hide: bool | None = None
    labels: bool | None = None


class Chart(WidgetComponentBase):
    """A bar/area/line chart over `data` rows keyed by field name."""

    type: Literal["Chart"] = "Chart"
    data: list[dict[str, int | float | str]]
    series: list[ChartSeries]
    xAxis: str | XAxisConfig
    showYAxis: bool | None = None
    showLegend: bool | None = None
    showTooltip: bool | None = None
    barGap: Number | None = None
    barCategoryGap: Number | None = None
    flex: Number | str | None = None
    height: Length | None = None
    width: Length | None = None
    size: Length | None = None
    minHeight: Length | None = None
    minWidth: Length | None = None
    minSize: Length | None = None
    maxHeight: Length | None = None
    maxWidth: Length | None = None
    maxSize: Length | None = None
    aspectRatio: Number | str | None = None


# --- Dispatching unions ------------------------------------------------------------------
#
# Written out member by member so a type checker sees every widget field's real type. Each
# member is tagged with its `type`; the discriminator functions below pick the tag, which
# is how an unknown `type` can still validate (as a pass-through DynamicComponent).

_DYNAMIC = "DynamicComponent"  # the tag of the pass-through choice (also names it in errors)

_RootChoice: TypeAlias = (
    Annotated[Card, Tag("Card")]
    | Annotated[ListView, Tag("ListView")]
    | Annotated[Basic, Tag("Basic")]
)
_ComponentChoice: TypeAlias = (
    Annotated[Text, Tag("Text")]
    | Annotated[Markdown, Tag("Markdown")]
    | Annotated[Title, Tag("Title")]
    | Annotated[Caption, Tag("Caption")]
    | Annotated[Badge, Tag("Badge")]
    | Annotated[Label, Tag("Label")]
    | Annotated[Box, Tag("Box")]
    | Annotated[Row, Tag("Row")]
    | Annotated[Col, Tag("Col")]
    | Annotated[Form, Tag("Form")]
    | Annotated[Divider, Tag("Divider")]
    | Annotated[Spacer, Tag("Spacer")]
    | Annotated[Transition, Tag("Transition")]
    | Annotated[Table, Tag("Table")]
    | Annotated[TableRow, Tag("Table.Row")]
    | Annotated[TableCell, Tag("Table.Cell")]
    | Annotated[Icon, Tag("Icon")]
    | Annotated[Image, Tag("Image")]
    | Annotated[Button, Tag("Button")]
    | Annotated[Select, Tag("Select")]
    | Annotated[DatePicker, Tag("DatePicker")]
    | Annotated[Checkbox, Tag("Checkbox")]
    | Annotated[Input, Tag("Input")]
    | Annotated[Textarea, Tag("Textarea")]
    | Annotated[RadioGroup, Tag("RadioGroup")]
    | Annotated[Chart, Tag("Chart")]
)
_DynamicChoice: TypeAlias = Annotated[DynamicComponent, Tag(_DYNAMIC)]


def _classes(choices: Any) -> tuple[type[WidgetComponentBase], ...]:
    return tuple(get_args(choice)[0] for choice in get_args(choices))


_ROOT_CLASSES = _classes(_RootChoice)
_COMPONENT_CLASSES = _classes(_ComponentChoice)

ROOT_TYPES: frozenset[str] = frozenset(c.model_fields["type"].default for c in _ROOT_CLASSES)
"""The `type` names a widget tree may have at its top."""

COMPONENT_TYPES: frozenset[str] = frozenset(
    c.model_fields["type"].default for c in _COMPONENT_CLASSES
)
"""The component `type` names modelled here; any other type becomes a DynamicComponent."""

PARENT_ONLY_TYPES: frozenset[str] = frozenset({"ListViewItem"})
"""Types valid only as the child of one parent (a ListViewItem only in `ListView.children`),
so neither a component nor a pass-through anywhere else."""

_MISPLACED_MESSAGE = "A ListViewItem is valid only in ListView.children"


def _type_of(value: Any) -> str | None:
    if isinstance(value, DynamicComponent):
        # Already a pass-through component: keep it as one, unless it claims a place-bound type.
        return value.type if value.type in PARENT_ONLY_TYPES else _DYNAMIC
    tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return tag if isinstance(tag, str) else None


def _component_tag(value: Any) -> str | None:
    tag = _type_of(value)
    if tag in COMPONENT_TYPES:
        return tag
    return None if tag in PARENT_ONLY_TYPES else _DYNAMIC


def _root_tag(value: Any) -> str | None:
    tag = _type_of(value)
    return tag if tag in ROOT_TYPES else None


def _basic_child_tag(value: Any) -> str | None:
    tag = _type_of(value)
    return tag if tag in ROOT_TYPES else _component_tag(value)


# SerializeAsAny: every node is dumped by its own model's (Rust) serializer, so the Python
# discriminator functions run only while validating.
WidgetComponent: TypeAlias = SerializeAsAny[
    Annotated[
        _ComponentChoice | _DynamicChoice,
        Discriminator(
            _component_tag,
            custom_error_type="misplaced_widget_component",
            custom_error_message=_MISPLACED_MESSAGE,
        ),
    ]
]
"""Any component: a known type validates as its class, any other type as DynamicComponent
(but a ListViewItem is rejected: it belongs in `ListView.children` only)."""

WidgetRoot: TypeAlias = SerializeAsAny[
    Annotated[
        _RootChoice,
        Discriminator(
            _root_tag,
            custom_error_type="invalid_widget_root",
            custom_error_message="A widget root must be a Card, ListView or Basic",
        ),
    ]
]
"""The top of a widget tree: a Card, a ListView or a Basic; anything else is rejected."""

BasicChild: TypeAlias = SerializeAsAny[
    Annotated[
        _RootChoice | _ComponentChoice | _DynamicChoice,
        Discriminator(
            _basic_child_tag,
            custom_error_type="misplaced_widget_component",
            custom_error_message=_MISPLACED_MESSAGE,
        ),
    ]
]
"""A child of `Basic`: a root or a component (unknown types as DynamicComponent)."""

_MODELS: tuple[type[WidgetComponentBase], ...] = (
    DynamicComponent,
    BoxBase,
    ListViewItem,
    *_ROOT_CLASSES,
    *_COMPONENT_CLASSES,
)
for _model in _MODELS:
    _model.model_rebuild()
del _model
