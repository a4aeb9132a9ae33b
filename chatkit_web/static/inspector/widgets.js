// Widgets (SPEC §13): rendering a widget tree, applying widget updates, firing its actions.

import { h, pretty } from "./dom.js";
import { glyph } from "./icons.js";
import { renderMarkdown } from "./markdown.js";

const SPACING_UNIT = 4;
const RADIUS = { "2xs": "2px", xs: "4px", sm: "6px", md: "8px", lg: "12px", xl: "16px", "2xl": "20px", "3xl": "24px", "4xl": "32px", full: "9999px", "100%": "100%", none: "0" };
const ALIGN = { start: "flex-start", end: "flex-end", center: "center", baseline: "baseline", stretch: "stretch" };
const JUSTIFY = { start: "flex-start", end: "flex-end", center: "center", between: "space-between", around: "space-around", evenly: "space-evenly", stretch: "stretch" };
const TEXT_SIZE = { xs: "12px", sm: "13px", md: "14px", lg: "16px", xl: "18px" };
const TITLE_SIZE = { sm: "14px", md: "16px", lg: "18px", xl: "20px", "2xl": "24px", "3xl": "28px", "4xl": "32px", "5xl": "36px" };
const CAPTION_SIZE = { sm: "11px", md: "12px", lg: "13px" };
const ICON_SIZE = { xs: "10px", sm: "12px", md: "14px", lg: "16px", xl: "18px", "2xl": "22px", "3xl": "28px" };
const WEIGHT = { normal: 400, medium: 500, semibold: 600, bold: 700 };
const CARD_WIDTH = { sm: "360px", md: "480px", lg: "640px", full: "100%" };
const TEXT_TOKENS = new Set(["prose", "primary", "emphasis", "secondary", "tertiary", "success", "warning", "danger", "info", "discovery"]);
const SURFACE_TOKENS = new Set(["surface", "surface-secondary", "surface-tertiary", "surface-elevated", "surface-elevated-secondary"]);

/** The element of a widget root; `ctx.onAction(action, source)` runs its actions. */
export function renderWidget(root, ctx) {
  const element = h("div", { class: "widget" });
  element.append(render(root, { ...ctx, widgetElement: element }));
  return element;
}

/** The widget after one `thread.item.updated` widget update (SPEC §9.3); the input is kept. */
export function applyWidgetUpdate(widget, update) {
  if (update.type === "widget.root.updated") return update.widget;
  const next = structuredClone(widget);
  const target = findComponent(next, update.component_id);
  if (!target) return next;
  if (update.type === "widget.streaming_text.value_delta") {
    target.value = `${target.value ?? ""}${update.delta}`;
    target.streaming = !update.done;
  } else if (update.type === "widget.component.updated") {
    for (const key of Object.keys(target)) delete target[key];
    Object.assign(target, update.component);
  }
  return next;
}

function findComponent(node, id) {
  if (!node || typeof node !== "object") return null;
  if (node.id === id) return node;
  const children = Array.isArray(node.children) ? node.children : node.children ? [node.children] : [];
  for (const child of children) {
    const found = findComponent(child, id);
    if (found) return found;
  }
  return null;
}

// -- components ------------------------------------------------------------------------------

function render(node, ctx) {
  if (node === null || node === undefined) return null;
  if (typeof node !== "object") return h("span", { class: "w-text" }, String(node));
  const renderer = RENDERERS[node.type];
  const element = renderer ? renderer(node, ctx) : unknown(node, ctx);
  // Which component drew this element, for people reading the DOM (and for tests).
  if (element instanceof HTMLElement) element.dataset.component = node.type;
  return element;
}

function children(node, ctx) {
  const list = Array.isArray(node.children) ? node.children : node.children ? [node.children] : [];
  return list.map((child) => render(child, ctx));
}

const RENDERERS = {
  Card: card,
  Basic: (node, ctx) => box(node, ctx, node.direction === "row" ? "w-row" : "w-col"),
  ListView: listView,
  ListViewItem: listViewItem,
  Box: (node, ctx) => box(node, ctx, node.direction === "row" ? "w-box w-row" : "w-box"),
  Row: (node, ctx) => box(node, ctx, "w-row"),
  Col: (node, ctx) => box(node, ctx, "w-col"),
  Form: form,
  Text: text,
  Markdown: (node) => {
    const element = renderMarkdown(node.value ?? "", "md w-markdown");
    if (node.streaming) element.classList.add("w-text", "streaming");
    return element;
  },
  Title: (node) => styledText("div", "w-title", node, TITLE_SIZE),
  Caption: (node) => styledText("div", "w-caption", node, CAPTION_SIZE),
  Badge: badge,
  Button: button,
  Divider: (node) => h("hr", { class: "w-divider", style: { margin: node.spacing !== undefined ? `${space(node.spacing)} 0` : null, borderTopWidth: px(node.size), borderColor: cssColor(node.color) } }),
  Image: image,
  Icon: (node) => h("span", { class: ["w-icon", colorClass(node.color)], title: node.name, style: { fontSize: ICON_SIZE[node.size], color: cssColor(node.color) } }, glyph(node.name)),
  Spacer: (node) => h("div", { class: "w-spacer", style: { minWidth: size(node.minSize), minHeight: size(node.minSize) } }),
  Transition: (node, ctx) => h("div", { class: "w-box" }, children(node, ctx)),
  Label: (node) => h("label", { class: "w-label", for: fieldId(node.fieldName), style: textStyle(node, TEXT_SIZE) }, node.value),
  Input: input,
  Textarea: textarea,
  Select: select,
  Checkbox: checkbox,
  RadioGroup: radioGroup,
  DatePicker: datePicker,
};

function card(node, ctx) {
  const tag = node.asForm ? "form" : "div";
  const element = h(tag, { class: ["w-card", node.theme === "dark" && "dark", background(node.background).className], style: { ...background(node.background).style, maxWidth: CARD_WIDTH[node.size] ?? CARD_WIDTH.md, padding: node.padding !== undefined ? padding(node.padding) : null, border: border(node.border) } });
  if (node.status) element.append(status(node.status));
  const body = children(node, ctx);
  if (node.collapsed) {
    const details = h("details", {}, h("summary", { class: "muted small" }, "Collapsed card"), h("div", { class: "w-col", style: { gap: "10px" } }, body));
    element.append(details);
  } else {
    element.append(...body.filter(Boolean));
  }
  if (node.confirm || node.cancel) {
    const foot = h("div", { class: "w-card-foot" });
    if (node.cancel) foot.append(actionButton(node.cancel.label, node.cancel.action, "cancel", ctx, "btn"));
    if (node.confirm) {
      const confirm = actionButton(node.confirm.label, node.confirm.action, "confirm", ctx, "btn btn-primary");
      if (node.asForm) confirm.type = "submit";
      foot.append(confirm);
    }
    element.append(foot);
  }
  if (node.asForm) bindForm(element, node.confirm?.action, ctx);
  return element;
}

function listView(node, ctx) {
  const element = h("div", { class: ["w-listview", node.theme === "dark" && "dark"] });
  if (node.status) element.append(status(node.status));
  const rows = children(node, ctx).filter(Boolean);
  const limit = typeof node.limit === "number" ? node.limit : null;
  rows.forEach((row, index) => {
    if (limit !== null && index >= limit) row.hidden = true;
    element.append(row);
  });
  if (limit !== null && rows.length > limit) {
    const more = h("button", { class: "w-more", type: "button" }, `Show ${rows.length - limit} more`);
    more.addEventListener("click", () => {
      rows.forEach((row) => { row.hidden = false; });
      more.remove();
    });
    element.append(more);
  }
  return element;
}

function listViewItem(node, ctx) {
  const element = h("div", { class: ["w-lvi", node.onClickAction && "clickable"], style: { gap: space(node.gap), alignItems: ALIGN[node.align] } }, children(node, ctx));
  if (node.onClickAction) {
    element.addEventListener("click", (event) => {
      if (event.target.closest("button, input, select, textarea, a")) return;
      fire(node.onClickAction, { element, binding: "listitem" }, ctx);
    });
  }
  return element;
}

function box(node, ctx, className) {
  const { className: bg, style: bgStyle } = background(node.background);
  return h("div", { class: [className, bg], style: { ...boxStyle(node), ...bgStyle } }, children(node, ctx));
}

function form(node, ctx) {
  const element = h("form", { class: ["w-form", node.direction === "row" && "w-row"], style: boxStyle(node) }, children(node, ctx));
  bindForm(element, node.onSubmitAction, ctx);
  return element;
}

function bindForm(element, submitAction, ctx) {
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!element.reportValidity()) return;
    const submitter = event.submitter;
    const action = submitter?.__action ?? submitAction;
    if (action) fire(action, { element: submitter ?? element, binding: "form", form: element }, ctx);
  });
}

function text(node) {
  const element = styledText(node.editable ? "div" : "p", "w-text", node, TEXT_SIZE);
  if (node.streaming) element.classList.add("streaming");
  if (node.editable && typeof node.editable === "object") {
    element.replaceChildren(h("input", { class: "w-input", name: node.editable.name, value: node.value ?? "", placeholder: node.editable.placeholder, required: node.editable.required, pattern: node.editable.pattern }));
  }
  return element;
}

function styledText(tag, className, node, sizes) {
  return h(tag, { class: [className, node.truncate && "truncate", colorClass(node.color)], style: textStyle(node, sizes) }, node.value ?? "");
}

function textStyle(node, sizes) {
  const lines = node.maxLines ?? null;
  return {
    fontSize: sizes[node.size],
    fontWeight: WEIGHT[node.weight],
    fontStyle: node.italic ? "italic" : null,
    textDecoration: node.lineThrough ? "line-through" : null,
    textAlign: node.textAlign,
    color: cssColor(node.color),
    width: size(node.width),
    display: lines ? "-webkit-box" : null,
    webkitLineClamp: lines ? String(lines) : null,
    webkitBoxOrient: lines ? "vertical" : null,
    overflow: lines ? "hidden" : null,
    minHeight: node.minLines ? `${node.minLines * 1.5}em` : null,
  };
}

function badge(node) {
  return h("span", { class: ["w-badge", node.color, node.variant ?? "soft", node.pill && "pill"], style: { fontSize: { sm: "11px", md: "12px", lg: "13px" }[node.size] } }, node.label);
}

function button(node, ctx) {
  const classes = ["btn", "w-button", buttonClass(node), node.pill && "pill", node.block && "block"];
  const element = h(
    "button",
    { class: classes, type: node.submit ? "submit" : "button", disabled: node.disabled, style: { fontSize: { "3xs": "10px", "2xs": "11px", xs: "12px", sm: "12px", md: "14px", lg: "15px", xl: "16px", "2xl": "18px", "3xl": "20px" }[node.size] } },
    node.iconStart ? h("span", { class: "w-icon" }, glyph(node.iconStart)) : null,
    node.label ?? "",
    node.iconEnd ? h("span", { class: "w-icon" }, glyph(node.iconEnd)) : null,
  );
  if (node.submit) {
    element.__action = node.onClickAction;
  } else if (node.onClickAction) {
    element.addEventListener("click", () => fire(node.onClickAction, { element, binding: "button", form: element.closest("form") }, ctx));
  }
  return element;
}

function buttonClass(node) {
  if (node.variant === "ghost") return "btn-ghost";
  if (node.color === "danger") return "danger";
  if (node.color === "success") return "success";
  if (node.style === "secondary" || node.color === "secondary" || node.variant === "outline" || node.variant === "soft") return "secondary";
  return "btn-primary";
}

function actionButton(label, action, binding, ctx, className) {
  const element = h("button", { class: className, type: "button" }, label);
  element.__action = action;
  element.addEventListener("click", () => {
    if (element.type !== "submit") fire(action, { element, binding, form: element.closest("form") }, ctx);
  });
  return element;
}

function image(node) {
  const { className: bg, style: bgStyle } = background(node.background);
  return h("img", {
    class: ["w-image", bg],
    src: node.src,
    alt: node.alt ?? "",
    loading: "lazy",
    style: {
      ...bgStyle,
      objectFit: node.fit ?? "cover",
      objectPosition: node.position,
      borderRadius: RADIUS[node.radius] ?? null,
      width: size(node.width ?? node.size),
      height: size(node.height ?? node.size),
      minWidth: size(node.minWidth ?? node.minSize),
      minHeight: size(node.minHeight ?? node.minSize),
      maxWidth: size(node.maxWidth ?? node.maxSize) ?? "100%",
      maxHeight: size(node.maxHeight ?? node.maxSize),
      aspectRatio: node.aspectRatio !== undefined ? String(node.aspectRatio) : null,
      margin: node.margin !== undefined ? padding(node.margin) : null,
      flex: node.flex !== undefined ? String(node.flex) : null,
      border: node.frame ? "1px solid var(--border)" : null,
    },
  });
}

function input(node, ctx) {
  const element = h("input", { class: "w-input", id: fieldId(node.name), name: node.name, type: node.inputType ?? "text", value: node.defaultValue, required: node.required, pattern: node.pattern, placeholder: node.placeholder, disabled: node.disabled, autofocus: node.autoFocus });
  if (node.pill) element.style.borderRadius = "999px";
  return element;
}

function textarea(node) {
  return h("textarea", { class: "w-textarea", id: fieldId(node.name), name: node.name, rows: node.rows ?? 3, required: node.required, placeholder: node.placeholder, disabled: node.disabled }, node.defaultValue ?? "");
}

function select(node, ctx) {
  const element = h(
    "select",
    { class: "w-select", id: fieldId(node.name), name: node.name, disabled: node.disabled },
    h("option", { value: "", disabled: true, selected: node.defaultValue === undefined }, node.placeholder ?? "Select…"),
    (node.options ?? []).map((option) => h("option", { value: option.value, disabled: option.disabled, selected: option.value === node.defaultValue }, option.label ?? option.value)),
  );
  if (node.onChangeAction) element.addEventListener("change", () => fire(node.onChangeAction, { element, binding: "select", form: element.closest("form") }, ctx));
  return element;
}

function checkbox(node, ctx) {
  const box = h("input", { type: "checkbox", name: node.name, id: fieldId(node.name), checked: node.defaultChecked, disabled: node.disabled, required: node.required });
  if (node.onChangeAction) box.addEventListener("change", () => fire(node.onChangeAction, { element: box, binding: "change", form: box.closest("form") }, ctx));
  return h("label", { class: "w-check" }, box, node.label ?? "");
}

function radioGroup(node, ctx) {
  const group = h("div", { class: ["w-radios", node.direction === "col" && "col"], role: "radiogroup", "aria-label": node.ariaLabel });
  for (const option of node.options ?? []) {
    const radio = h("input", { type: "radio", name: node.name, value: option.value, checked: option.value === node.defaultValue, disabled: node.disabled || option.disabled, required: node.required });
    if (node.onChangeAction) radio.addEventListener("change", () => fire(node.onChangeAction, { element: radio, binding: "change", form: radio.closest("form") }, ctx));
    group.append(h("label", { class: "w-check" }, radio, option.label ?? option.value));
  }
  return group;
}

function datePicker(node, ctx) {
  const element = h("input", { class: "w-input", type: "date", id: fieldId(node.name), name: node.name, value: node.defaultValue?.slice(0, 10), min: node.min?.slice(0, 10), max: node.max?.slice(0, 10), disabled: node.disabled, placeholder: node.placeholder });
  if (node.onChangeAction) element.addEventListener("change", () => fire(node.onChangeAction, { element, binding: "change", form: element.closest("form") }, ctx));
  return element;
}

function status(value) {
  return h("div", { class: "w-status" }, value.favicon ? h("img", { src: value.favicon, alt: "", width: 14, height: 14 }) : value.icon ? h("span", { class: "w-icon" }, glyph(value.icon)) : null, value.text);
}

// A component this page does not draw: its type and props, then its children.
function unknown(node, ctx) {
  const { children: kids, type, ...props } = node;
  const element = h("div", { class: "w-unknown", dataset: { type: String(type) } }, h("div", { class: "w-unknown-head" }, `${type ?? "(no type)"} — not drawn by the inspector`));
  if (Object.keys(props).length) element.append(h("pre", {}, pretty(props)));
  if (kids && typeof kids === "object") element.append(h("div", { class: "w-col", style: { gap: "6px" } }, children(node, ctx)));
  return element;
}

// -- actions ---------------------------------------------------------------------------------

// `auto` loading behaviour by binding, as SPEC §13.4 describes it.
const AUTO_LOADING = { button: "self", listitem: "self", select: "none", change: "none", confirm: "container", cancel: "container", form: "container" };

function fire(config, source, ctx) {
  const action = { ...config, payload: withFormValues(config.payload ?? null, source.form) };
  const behaviour = config.loadingBehavior === "auto" || !config.loadingBehavior ? AUTO_LOADING[source.binding] : config.loadingBehavior;
  const target = behaviour === "self" ? source.element : behaviour === "container" ? ctx.widgetElement : null;
  target?.classList.add(behaviour === "self" ? "busy" : "loading");
  if (behaviour === "self") source.element.disabled = true;
  Promise.resolve(ctx.onAction(action, source)).finally(() => {
    target?.classList.remove("busy", "loading");
    if (behaviour === "self") source.element.disabled = false;
  });
}

/** The payload with every named field of `form` merged in; dotted names nest; payload keys win. */
export function withFormValues(payload, form) {
  if (!form) return payload;
  const values = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === "radio" && !field.checked) continue;
    const value = field.type === "checkbox" ? field.checked : field.value;
    setPath(values, field.name.split("."), value);
  }
  if (payload !== null && typeof payload !== "object") return payload;
  const merged = { ...(payload ?? {}) };
  for (const [key, value] of Object.entries(values)) if (!(key in merged)) merged[key] = value;
  return merged;
}

function setPath(target, path, value) {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key] && typeof node[key] === "object" ? node[key] : (node[key] = {});
  node[path.at(-1)] = value;
}

// -- style helpers ---------------------------------------------------------------------------

function boxStyle(node) {
  return {
    gap: space(node.gap),
    alignItems: ALIGN[node.align],
    justifyContent: JUSTIFY[node.justify],
    flexWrap: node.wrap,
    flex: node.flex !== undefined ? String(node.flex) : null,
    padding: node.padding !== undefined ? padding(node.padding) : null,
    margin: node.margin !== undefined ? padding(node.margin) : null,
    width: size(node.width ?? node.size),
    height: size(node.height ?? node.size),
    minWidth: size(node.minWidth ?? node.minSize),
    minHeight: size(node.minHeight ?? node.minSize),
    maxWidth: size(node.maxWidth ?? node.maxSize),
    maxHeight: size(node.maxHeight ?? node.maxSize),
    borderRadius: RADIUS[node.radius] ?? null,
    border: border(node.border),
    aspectRatio: node.aspectRatio !== undefined ? String(node.aspectRatio) : null,
  };
}

function space(value) {
  if (value === undefined || value === null) return null;
  return typeof value === "number" ? `${value * SPACING_UNIT}px` : String(value);
}

function padding(value) {
  if (value === null || typeof value !== "object") return space(value);
  const side = (name, axis) => space(value[name] ?? value[axis] ?? 0);
  return `${side("top", "y")} ${side("right", "x")} ${side("bottom", "y")} ${side("left", "x")}`;
}

function size(value) {
  if (value === undefined || value === null) return null;
  return typeof value === "number" ? `${value}px` : String(value);
}

function px(value) {
  return typeof value === "number" ? `${value}px` : null;
}

function border(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return `${value}px solid var(--border)`;
  if (typeof value === "object" && "size" in value) return `${value.size}px ${value.style ?? "solid"} ${cssColor(value.color) ?? "var(--border)"}`;
  return "1px solid var(--border)";
}

function themed(value) {
  if (value && typeof value === "object") return matchMedia("(prefers-color-scheme: dark)").matches ? value.dark : value.light;
  return value;
}

function colorClass(value) {
  const color = themed(value);
  return TEXT_TOKENS.has(color) ? `c-${color}` : null;
}

function cssColor(value) {
  const color = themed(value);
  if (!color || TEXT_TOKENS.has(color) || SURFACE_TOKENS.has(color)) return null;
  if (/^[a-z]+-\d{2,3}$/.test(color)) return `var(--${color}, ${color.split("-")[0]})`;
  return color;
}

function background(value) {
  const color = themed(value);
  if (SURFACE_TOKENS.has(color)) return { className: `bg-${color}`, style: {} };
  return { className: null, style: { background: cssColor(color) } };
}

function fieldId(name) {
  return name ? `w-field-${String(name).replace(/[^\w-]/g, "_")}` : null;
}
