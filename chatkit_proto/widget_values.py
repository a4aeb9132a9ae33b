"""Value sets, scalar aliases and helper shapes used by widget props (SPEC §13.2)."""

from __future__ import annotations

from typing import Literal, TypeAlias

from .actions import ActionConfig
from .base import ProtoModel
from .icons import IconName

# --- Scalars ---------------------------------------------------------------------------

Number: TypeAlias = int | float
"""A JSON number; `int` is tried first so `2` stays `2` on output."""

Length: TypeAlias = int | float | str
"""A size: a number (px) or a CSS string such as `"50%"`."""

# --- Value sets named by the SPEC ------------------------------------------------------

RadiusValue: TypeAlias = Literal[
    "2xs", "xs", "sm", "md", "lg", "xl", "2xl", "3xl", "4xl", "full", "100%", "none"
]
TextAlign: TypeAlias = Literal["start", "center", "end"]
TextSize: TypeAlias = Literal["xs", "sm", "md", "lg", "xl"]
IconSize: TypeAlias = Literal["xs", "sm", "md", "lg", "xl", "2xl", "3xl"]
TitleSize: TypeAlias = Literal["sm", "md", "lg", "xl", "2xl", "3xl", "4xl", "5xl"]
CaptionSize: TypeAlias = Literal["sm", "md", "lg"]
Alignment: TypeAlias = Literal["start", "center", "end", "baseline", "stretch"]
Justification: TypeAlias = Literal[
    "start", "center", "end", "between", "around", "evenly", "stretch"
]
ControlVariant: TypeAlias = Literal["solid", "soft", "outline", "ghost"]
ControlSize: TypeAlias = Literal["3xs", "2xs", "xs", "sm", "md", "lg", "xl", "2xl", "3xl"]
FontWeight: TypeAlias = Literal["normal", "medium", "semibold", "bold"]

# --- Value sets of single props --------------------------------------------------------

Direction: TypeAlias = Literal["row", "col"]
FlexWrap: TypeAlias = Literal["nowrap", "wrap", "wrap-reverse"]
Theme: TypeAlias = Literal["light", "dark"]
CardSize: TypeAlias = Literal["sm", "md", "lg", "full"]
BadgeColor: TypeAlias = Literal["secondary", "success", "danger", "warning", "info", "discovery"]
BadgeVariant: TypeAlias = Literal["solid", "soft", "outline"]
BadgeSize: TypeAlias = Literal["sm", "md", "lg"]
ImageFit: TypeAlias = Literal["cover", "contain", "fill", "scale-down", "none"]
ImagePosition: TypeAlias = Literal[
    "top left", "top", "top right", "left", "center", "right",
    "bottom left", "bottom", "bottom right",
]  # fmt: skip
ButtonStyle: TypeAlias = Literal["primary", "secondary"]
ButtonIconSize: TypeAlias = Literal["sm", "md", "lg", "xl", "2xl"]
ButtonColor: TypeAlias = Literal[
    "primary", "secondary", "info", "discovery", "success", "caution", "warning", "danger"
]
PopoverSide: TypeAlias = Literal["top", "bottom", "left", "right"]
PopoverAlign: TypeAlias = Literal["start", "center", "end"]
InputType: TypeAlias = Literal["number", "email", "text", "password", "tel", "url"]
InputVariant: TypeAlias = Literal["soft", "outline"]
GutterSize: TypeAlias = Literal["2xs", "xs", "sm", "md", "lg", "xl"]
BorderStyle: TypeAlias = Literal[
    "solid", "dashed", "dotted", "double", "groove", "ridge", "inset", "outset"
]
TableCellAlign: TypeAlias = Literal["start", "center", "end"]
TableColSize: TypeAlias = Literal["xs", "sm", "md", "lg", "xl"]
CurveType: TypeAlias = Literal[
    "basis", "basisClosed", "basisOpen", "bumpX", "bumpY", "bump", "linear", "linearClosed",
    "natural", "monotoneX", "monotoneY", "monotone", "step", "stepBefore", "stepAfter",
]  # fmt: skip

# --- Helper shapes (SPEC §13.2 "Helper shapes") -----------------------------------------


class ThemeColor(ProtoModel):
    """A color that differs per theme: `{dark, light}`, each a token or CSS color."""

    dark: str
    light: str


Color: TypeAlias = str | ThemeColor
"""A color token (text/background/border/chart/primitive), a CSS color, or a ThemeColor."""


class Spacing(ProtoModel):
    """Per-side spacing; each side is a number (px) or a CSS string."""

    top: Length | None = None
    right: Length | None = None
    bottom: Length | None = None
    left: Length | None = None
    x: Length | None = None
    y: Length | None = None


SpacingValue: TypeAlias = Length | Spacing
"""`padding`/`margin`: one length for all sides, or a Spacing."""


class Border(ProtoModel):
    """One border: width in px, optional color and line style."""

    size: Number
    color: Color | None = None
    style: BorderStyle | None = None


class Borders(ProtoModel):
    """Per-side borders; each side is a width in px or a Border."""

    top: Number | Border | None = None
    right: Number | Border | None = None
    bottom: Number | Border | None = None
    left: Number | Border | None = None
    x: Number | Border | None = None
    y: Number | Border | None = None


BorderValue: TypeAlias = Number | Border | Borders
"""`border`: a width in px, one Border for all sides, or Borders."""


class EditableProps(ProtoModel):
    """Makes a `Text` editable in place; `name` keys its value in form payloads."""

    name: str
    autoFocus: bool | None = None
    autoSelect: bool | None = None
    autoComplete: str | None = None
    allowAutofillExtensions: bool | None = None
    pattern: str | None = None
    placeholder: str | None = None
    required: bool | None = None


class WidgetStatusWithFavicon(ProtoModel):
    """A root's status line with an optional favicon URL (and `frame` around it)."""

    text: str
    favicon: str | None = None
    frame: bool | None = None


class WidgetStatusWithIcon(ProtoModel):
    """A root's status line with an optional icon."""

    text: str
    icon: IconName | None = None


WidgetStatus: TypeAlias = WidgetStatusWithFavicon | WidgetStatusWithIcon
"""A root's status line; the two variants are told apart by their keys."""


class CardAction(ProtoModel):
    """A Card footer button (`confirm` / `cancel`): a label and the action it fires."""

    label: str
    action: ActionConfig


class SelectOption(ProtoModel):
    """One option of a `Select`."""

    value: str
    label: str
    disabled: bool | None = None
    description: str | None = None


class RadioOption(ProtoModel):
    """One option of a `RadioGroup`."""

    label: str
    value: str
    disabled: bool | None = None
