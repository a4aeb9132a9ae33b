// Thread items (SPEC §3.3): applying `thread.item.updated` updates and drawing each item type.

import { h, pretty } from "./dom.js";
import { glyph } from "./icons.js";
import { renderMarkdown } from "./markdown.js";
import { icon } from "./svg.js";
import { applyWidgetUpdate, renderWidget } from "./widgets.js";

const EMPTY_PART = () => ({ annotations: [], text: "", type: "output_text" });

/** The item after one update (SPEC §9); the input is not modified. */
export function applyItemUpdate(item, update) {
  const next = structuredClone(item);
  const kind = update.type;
  if (kind.startsWith("assistant_message.") && next.type === "assistant_message") {
    next.content ??= [];
    while (next.content.length <= update.content_index) next.content.push(EMPTY_PART());
    const part = next.content[update.content_index];
    if (kind === "assistant_message.content_part.added" || kind === "assistant_message.content_part.done") {
      next.content[update.content_index] = update.content;
    } else if (kind === "assistant_message.content_part.text_delta") {
      part.text += update.delta;
    } else if (kind === "assistant_message.content_part.annotation_added") {
      part.annotations ??= [];
      if (update.annotation_index <= part.annotations.length) part.annotations.splice(update.annotation_index, 0, update.annotation);
      else part.annotations.push(update.annotation);
    }
  } else if (kind === "workflow.task.added" && next.type === "workflow") {
    next.workflow.tasks.push(update.task);
  } else if (kind === "workflow.task.updated" && next.type === "workflow") {
    next.workflow.tasks[update.task_index] = update.task;
  } else if (kind.startsWith("widget.") && next.type === "widget") {
    next.widget = applyWidgetUpdate(next.widget, update);
  } else if (kind === "generated_image.updated" && next.type === "generated_image") {
    next.image = update.image;
    next.progress = update.progress;
  }
  return next;
}

/**
 * The element of one item. `view` says what the page knows (`streamingIds`, `lastItemId`,
 * `feedback`, `drafts`) and `actions` holds the callbacks the item's controls call. Controls
 * that start a response carry `needs-idle`: they are inert while a response streams.
 */
export function renderItem(item, view, actions) {
  const renderer = RENDERERS[item.type] ?? unknownItem;
  const element = h("article", { class: ["item", `item-${item.type === "user_message" ? "user" : "other"}`], dataset: { id: item.id, type: item.type } });
  element.append(renderer(item, view, actions));
  const tools = itemTools(item, view, actions);
  if (tools) element.append(tools);
  return element;
}

const RENDERERS = {
  user_message: userMessage,
  assistant_message: assistantMessage,
  client_tool_call: clientToolCall,
  widget: widgetItem,
  structured_input: structuredInput,
  workflow: (item) => workflow(item.workflow),
  task: (item) => h("div", { class: "card workflow" }, task(item.task)),
  generated_image: generatedImage,
  end_of_turn: () => h("div", { class: "eot" }, "— end of turn —"),
  hidden_context_item: hiddenItem,
  sdk_hidden_context: hiddenItem,
};

function userMessage(item) {
  const body = h("div", { class: "item-body" });
  if (item.attachments?.length) {
    body.append(h("div", { class: "attachments" }, item.attachments.map((attachment) => attachmentView(attachment))));
  }
  if (item.quoted_text) body.append(h("div", { class: "quote" }, item.quoted_text));
  const bubble = h("div", { class: "bubble" });
  for (const part of item.content ?? []) {
    if (part.type === "input_text") bubble.append(part.text);
    else if (part.type === "input_tag") bubble.append(h("span", { class: "tag", title: JSON.stringify(part.data ?? {}) }, `@${part.text}`));
  }
  body.append(bubble);
  return body;
}

/** An attachment as a thumbnail (images) or a chip (files). */
export function attachmentView(attachment) {
  if (attachment.type === "image" && attachment.preview_url) {
    return h("a", { href: attachment.preview_url, target: "_blank", rel: "noopener", title: attachment.name }, h("img", { class: "thumb", src: attachment.preview_url, alt: attachment.name }));
  }
  return h("span", { class: "file-chip", title: attachment.mime_type }, icon("clip", 12), attachment.name);
}

function assistantMessage(item, view) {
  const streaming = view.streamingIds.has(item.id);
  const body = h("div", { class: ["assistant", streaming && "streaming"] });
  const sources = [];
  for (const part of item.content ?? []) {
    body.append(renderMarkdown(part.text ?? ""));
    for (const annotation of part.annotations ?? []) sources.push(annotation.source);
  }
  if (sources.length) {
    body.append(
      h(
        "details",
        { class: "sources" },
        h("summary", {}, `Sources (${sources.length})`),
        h("ol", {}, sources.map((source) => h("li", {}, source.url ? h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer" }, source.title) : source.title, source.type === "file" ? ` — ${source.filename}` : ""))),
      ),
    );
  }
  return body;
}

function clientToolCall(item, view, actions) {
  const card = h(
    "div",
    { class: "card" },
    h("div", { class: "card-kicker" }, "Client tool call"),
    h("div", { class: "card-title" }, h("span", { class: "mono" }, item.name), h("span", { class: ["pill", item.status === "completed" ? "ok" : ""] }, item.status)),
    h("pre", { class: "json" }, pretty(item.arguments ?? {})),
  );
  if (item.status === "completed") {
    if (item.output !== undefined) card.append(h("div", { class: "small muted" }, "Output"), h("pre", { class: "json" }, pretty(item.output)));
    return card;
  }
  if (item.id !== view.lastItemId) {
    card.append(h("div", { class: "small muted" }, "Only the newest item can be answered."));
    return card;
  }
  const editor = h("textarea", { class: "json-editor", spellcheck: "false", "aria-label": "Client tool result (JSON)" }, view.drafts.get(item.id) ?? "{}");
  const problem = h("span", { class: "error-text" });
  const send = h("button", { class: "btn btn-primary btn-sm needs-idle", type: "button" }, "Send result");
  const parse = () => {
    try {
      const value = JSON.parse(editor.value);
      editor.classList.remove("invalid");
      problem.textContent = "";
      return { ok: true, value };
    } catch (error) {
      editor.classList.add("invalid");
      problem.textContent = error.message;
      return { ok: false };
    }
  };
  editor.addEventListener("input", () => {
    view.drafts.set(item.id, editor.value);
    parse();
  });
  send.addEventListener("click", () => {
    const parsed = parse();
    if (parsed.ok) actions.toolOutput(item, parsed.value);
  });
  card.append(
    h("div", { class: "small muted", style: { marginTop: "8px" } }, "The server waits for this tool's result. Edit the JSON and send it as ", h("code", {}, "threads.add_client_tool_output"), "."),
    editor,
    h("div", { class: "row-actions" }, send, problem),
  );
  return card;
}

function widgetItem(item, view, actions) {
  return renderWidget(item.widget, { onAction: (action, source) => actions.widgetAction(item, action, source) });
}

function structuredInput(item, view, actions) {
  const card = h("div", { class: "card" }, h("div", { class: "card-kicker" }, "Structured input"), h("span", { class: "pill" }, item.status));
  if (item.status !== "pending") {
    for (const input of item.inputs ?? []) {
      const answer = input.answer;
      card.append(h("div", { class: "si-question" }, h("div", { class: "q" }, input.question), h("div", { class: "answer" }, !answer || answer.skipped ? "skipped" : answer.values.join(", "))));
    }
    return card;
  }
  const form = h("form", {});
  const readers = [];
  for (const input of item.inputs ?? []) {
    const block = h("div", { class: "si-question" }, h("div", { class: "q" }, input.question));
    if (input.type === "multiple_choice") {
      const name = `${item.id}-${input.id}`;
      const choices = h("div", { class: "choices" }, (input.options ?? []).map((option) => h("label", { class: "choice" }, h("input", { type: input.multiple ? "checkbox" : "radio", name, value: option.value }), option.value)));
      const other = h("input", { class: "text-field", placeholder: "Or type another answer", style: { marginTop: "6px" } });
      block.append(choices, other);
      readers.push([input.id, () => {
        const picked = [...choices.querySelectorAll("input:checked")].map((box) => box.value);
        if (other.value.trim()) picked.push(other.value.trim());
        return picked;
      }]);
    } else {
      const field = h("textarea", { class: "text-field", rows: 2, placeholder: input.description ?? "Your answer" });
      block.append(field);
      readers.push([input.id, () => (field.value.trim() ? [field.value.trim()] : [])]);
    }
    form.append(block);
  }
  const submit = h("button", { class: "btn btn-primary btn-sm needs-idle", type: "submit" }, "Submit");
  const skip = h("button", { class: "btn btn-sm needs-idle", type: "button" }, "Skip");
  form.append(h("div", { class: "row-actions" }, submit, skip));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const answers = Object.fromEntries(readers.map(([id, read]) => [id, { values: read() }]));
    actions.structuredInput(item, { status: "answered", answers });
  });
  skip.addEventListener("click", () => actions.structuredInput(item, { status: "skipped", answers: {} }));
  card.append(form);
  return card;
}

function workflow(value) {
  const summary = value.summary;
  let title = value.type === "reasoning" ? "Reasoning" : "Workflow";
  if (summary && "title" in summary) title = `${summary.icon ? `${glyph(summary.icon)} ` : ""}${summary.title}`;
  else if (summary && "duration" in summary) title = `${value.type === "reasoning" ? "Thought" : "Worked"} for ${summary.duration}s`;
  const details = h(
    "details",
    { class: "card workflow", open: value.expanded || !summary },
    h("summary", {}, title, h("span", { class: "small muted" }, `${value.tasks.length} task${value.tasks.length === 1 ? "" : "s"}`)),
    h("div", { class: "tasks" }, value.tasks.map((entry) => task(entry))),
  );
  return details;
}

function task(value) {
  const indicator = value.status_indicator ?? "none";
  const dot = indicator === "loading" ? h("span", { class: "spinner" }) : indicator === "complete" ? "✓" : value.icon ? glyph(value.icon) : "•";
  const body = h("div", { class: "task-main" });
  const title = value.title ?? { thought: "Thought", web_search: "Searched the web", file: "Files", image: "Image" }[value.type];
  if (title) body.append(h("div", { class: "task-title" }, title));
  if (value.content) body.append(h("div", { class: "task-content" }, value.content));
  if (value.title_query) body.append(h("div", { class: "task-content" }, value.title_query));
  if (value.queries?.length) body.append(h("div", { class: "task-content small" }, value.queries.map((query) => `“${query}”`).join(" · ")));
  const sources = value.sources ?? [];
  if (sources.length) body.append(h("ul", { class: "small" }, sources.map((source) => h("li", {}, source.url ? h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer" }, source.title) : `${source.title}${source.filename ? ` — ${source.filename}` : ""}`))));
  return h("div", { class: "task", dataset: { taskType: value.type } }, h("span", { class: ["task-dot", indicator] }, dot), body);
}

function generatedImage(item) {
  const card = h("div", { class: "card" }, h("div", { class: "card-kicker" }, "Generated image"));
  if (item.image?.url) card.append(h("img", { class: "w-image", src: item.image.url, alt: "generated image", style: { maxHeight: "360px", borderRadius: "8px" } }));
  else card.append(h("div", { class: "muted" }, h("span", { class: "spinner" }), " generating…"));
  if (typeof item.progress === "number") card.append(h("progress", { max: 1, value: item.progress, style: { width: "100%" } }));
  return card;
}

function hiddenItem(item) {
  return h("div", { class: "card", style: { borderStyle: "dashed" } }, h("div", { class: "card-kicker" }, `${item.type} (hidden items are not meant for the client)`), h("pre", { class: "json" }, pretty(item.content)));
}

function unknownItem(item) {
  return h("div", { class: "card" }, h("div", { class: "card-kicker" }, `Unknown item type ${item.type}`), h("pre", { class: "json" }, pretty(item)));
}

// Feedback for the answer items, retry for user and assistant messages.
function itemTools(item, view, actions) {
  const tools = [];
  if (["assistant_message", "widget", "client_tool_call", "workflow"].includes(item.type)) {
    const given = view.feedback.get(item.id);
    tools.push(
      h("button", { class: ["icon-btn", given === "positive" && "pressed"], type: "button", title: "Good answer (items.feedback)", "aria-label": "thumbs up", onclick: () => actions.feedback(item, "positive") }, icon("up")),
      h("button", { class: ["icon-btn", given === "negative" && "pressed"], type: "button", title: "Bad answer (items.feedback)", "aria-label": "thumbs down", onclick: () => actions.feedback(item, "negative") }, icon("down")),
    );
  }
  if (item.type === "widget" && item.copy_text) {
    tools.push(h("button", { class: "icon-btn", type: "button", title: "Copy copy_text", "aria-label": "copy", onclick: () => navigator.clipboard?.writeText(item.copy_text) }, icon("copy")));
  }
  if (item.type === "user_message" || item.type === "assistant_message") {
    tools.push(h("button", { class: "icon-btn needs-idle", type: "button", title: "Retry from here (threads.retry_after_item)", "aria-label": "retry", onclick: () => actions.retry(item) }, icon("retry")));
  }
  if (!tools.length) return null;
  return h("div", { class: "item-tools" }, h("span", { class: "tool-label" }, item.id), tools);
}
