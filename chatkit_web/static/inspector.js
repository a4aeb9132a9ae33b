// The ChatKit inspector: a client of the ChatKit protocol written for people debugging a server.

import { APIError, ChatKitClient } from "./inspector/api.js";
import { h, since } from "./inspector/dom.js";
import { glyph } from "./inspector/icons.js";
import { applyItemUpdate, attachmentView, renderItem } from "./inspector/items.js";
import { EventLog } from "./inspector/log.js";
import { renderMarkdown } from "./inspector/markdown.js";
import { SchemaChecker } from "./inspector/schema.js";
import { decorate, icon } from "./inspector/svg.js";

const settings = JSON.parse(document.getElementById("page-settings").textContent);
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "chatkit-inspector-token";
const STRATEGY_KEY = "chatkit-inspector-upload";
const THREADS_PAGE = Number(new URLSearchParams(location.search).get("threads_page")) || 20;
const ITEMS_PAGE = 50;

const checker = new SchemaChecker(settings.schema_path);
const log = new EventLog({ list: $("log-list"), counts: $("log-counts"), onlyBad: $("log-only-bad"), checker });
const client = new ChatKitClient({ apiUrl: settings.api_path, uploadUrl: settings.upload_path, log });

const state = {
  threads: [],
  threadsAfter: null,
  threadsHasMore: false,
  thread: null,
  items: [],
  stream: null,
  streamingIds: new Set(),
  feedback: new Map(),
  drafts: new Map(),
  attachments: [],
  transient: [],
  renaming: null,
};

// -- threads --------------------------------------------------------------------------------

async function loadThreads({ more = false } = {}) {
  const params = { limit: THREADS_PAGE, order: "desc" };
  if (more && state.threadsAfter) params.after = state.threadsAfter;
  const page = await guarded(() => client.call("threads.list", params));
  if (!page) return;
  state.threads = more ? [...state.threads, ...page.data] : page.data;
  state.threadsAfter = page.after ?? null;
  state.threadsHasMore = page.has_more;
  renderThreads();
}

function renderThreads() {
  const list = $("thread-list");
  list.replaceChildren(...state.threads.map(threadEntry));
  $("threads-more").hidden = !state.threadsHasMore;
  $("threads-empty").hidden = state.threads.length > 0;
}

function threadEntry(thread) {
  const active = state.thread?.id === thread.id;
  if (state.renaming === thread.id) {
    const field = h("input", { class: "thread-rename", value: thread.title ?? "", "aria-label": "New title" });
    const finish = async (save) => {
      state.renaming = null;
      if (save && field.value.trim()) await renameThread(thread, field.value.trim());
      renderThreads();
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") finish(true);
      if (event.key === "Escape") finish(false);
    });
    field.addEventListener("blur", () => finish(true), { once: true });
    queueMicrotask(() => field.select());
    return h("li", { class: ["thread", active && "active"] }, field);
  }
  return h(
    "li",
    { class: ["thread", active && "active"], dataset: { id: thread.id }, onclick: () => openThread(thread.id) },
    h(
      "div",
      { class: "thread-main" },
      h("div", { class: ["thread-title", !thread.title && "untitled"] }, thread.title ?? "Untitled"),
      h("div", { class: "thread-meta" }, since(thread.created_at), thread.status?.type !== "active" ? ` · ${thread.status.type}` : ""),
    ),
    h(
      "div",
      { class: "thread-actions" },
      h("button", { class: "icon-btn", type: "button", title: "Rename (threads.update)", "aria-label": "rename", onclick: (event) => { event.stopPropagation(); state.renaming = thread.id; renderThreads(); } }, icon("pencil", 13)),
      h("button", { class: "icon-btn", type: "button", title: "Delete (threads.delete)", "aria-label": "delete", onclick: (event) => { event.stopPropagation(); deleteThread(thread); } }, icon("trash", 13)),
    ),
  );
}

async function renameThread(thread, title) {
  const updated = await guarded(() => client.call("threads.update", { thread_id: thread.id, title }));
  if (updated) rememberThread(updated);
}

async function deleteThread(thread) {
  if (!confirm(`Delete “${thread.title ?? thread.id}” and all its items?`)) return;
  const done = await guarded(() => client.call("threads.delete", { thread_id: thread.id }));
  if (!done) return;
  state.threads = state.threads.filter((entry) => entry.id !== thread.id);
  if (state.thread?.id === thread.id) newThread();
  renderThreads();
}

function rememberThread(thread, { prepend = false } = {}) {
  const index = state.threads.findIndex((entry) => entry.id === thread.id);
  if (index >= 0) state.threads[index] = thread;
  else if (prepend) state.threads.unshift(thread);
  if (state.thread?.id === thread.id) state.thread = thread;
  renderThreads();
  renderHeader();
}

async function openThread(threadId) {
  if (state.stream) return toast("Wait for the response to finish (or press Stop).");
  const thread = await guarded(() => client.call("threads.get_by_id", { thread_id: threadId }));
  if (!thread) return;
  let items = thread.items.data;
  let page = thread.items;
  // threads.get_by_id answers the oldest page; the rest comes from items.list in the same order.
  while (page.has_more && page.after) {
    page = await guarded(() => client.call("items.list", { thread_id: threadId, order: "asc", after: page.after, limit: ITEMS_PAGE }));
    if (!page) break;
    items = items.concat(page.data);
  }
  state.thread = { ...thread, items: { data: [], has_more: false } };
  state.items = items;
  state.transient = [];
  history.replaceState(null, "", `#${threadId}`);
  renderThreads();
  renderHeader();
  renderItems({ scroll: true });
}

function newThread() {
  state.thread = null;
  state.items = [];
  state.transient = [];
  $("notices").replaceChildren();
  history.replaceState(null, "", location.pathname + location.search);
  renderThreads();
  renderHeader();
  renderItems();
  $("composer-input").focus();
}

// -- the chat -------------------------------------------------------------------------------

function renderHeader() {
  const thread = state.thread;
  $("thread-title").textContent = thread ? thread.title ?? "Untitled thread" : "New thread";
  $("thread-id").textContent = thread?.id ?? "";
  const status = thread?.status ?? { type: "active" };
  const chip = $("thread-status");
  chip.hidden = status.type === "active";
  chip.textContent = `${status.type}${status.reason ? `: ${status.reason}` : ""}`;
  const input = $("composer-input");
  input.disabled = status.type !== "active";
  input.placeholder = status.type === "active" ? "Message the server…  (Enter to send, Shift+Enter for a new line)" : status.reason ?? `This thread is ${status.type}.`;
}

function view() {
  return {
    streamingIds: state.streamingIds,
    lastItemId: state.items.at(-1)?.id,
    feedback: state.feedback,
    drafts: state.drafts,
  };
}

const itemActions = {
  feedback: async (item, kind) => {
    const done = await guarded(() => client.call("items.feedback", { thread_id: state.thread.id, item_ids: [item.id], kind }));
    if (!done) return;
    state.feedback.set(item.id, kind);
    rerenderItem(item.id);
    toast(`Feedback sent: ${kind}`);
  },
  retry: (item) => {
    if (state.stream) return;
    const index = state.items.findIndex((entry) => entry.id === item.id);
    const user = state.items.slice(0, index + 1).findLast((entry) => entry.type === "user_message");
    if (user) retryAfter(user);
  },
  toolOutput: (item, result) => {
    if (state.stream) return;
    // The server completes the call without an event (SPEC §7.4); the client updates itself.
    upsertItem({ ...item, status: "completed", output: result ?? undefined });
    runStream("threads.add_client_tool_output", { thread_id: state.thread.id, result });
  },
  structuredInput: (item, submission) => {
    if (state.stream) return;
    runStream("threads.add_structured_input", { thread_id: state.thread.id, item_id: item.id, input: submission });
  },
  widgetAction: (item, action, source) => widgetAction(item, action, source),
};

function retryAfter(user) {
  const index = state.items.findIndex((entry) => entry.id === user.id);
  // The server deletes the newer items without telling (SPEC §7.6); so does the client.
  state.items = state.items.slice(0, index + 1);
  clearTransient();
  renderItems();
  runStream("threads.retry_after_item", { thread_id: state.thread.id, item_id: user.id });
}

async function widgetAction(item, action, source) {
  const request = { type: action.type, payload: action.payload ?? null };
  if (action.handler === "client") {
    log.add({ dir: "note", name: "client action (not sent)", sub: action.type, body: action });
    toast(`Client action “${action.type}”: the embedding page's widgets.onAction would handle it.`);
    return;
  }
  if (action.streaming === false) {
    const response = await guarded(() => client.call("threads.sync_custom_action", { thread_id: state.thread.id, item_id: item.id, action: request }));
    if (response?.updated_item) upsertItem(response.updated_item);
    return;
  }
  if (state.stream) return toast("Another response is streaming; streaming actions wait for it.");
  await runStream("threads.custom_action", { thread_id: state.thread.id, item_id: item.id, action: request });
}

function renderItems({ scroll = false } = {}) {
  const container = $("items");
  const current = view();
  const elements = state.items.map((item) => renderItem(item, current, itemActions));
  if (elements.length || state.transient.length) container.replaceChildren(...elements, ...state.transient);
  else container.replaceChildren(emptyChat());
  if (scroll) container.scrollTop = container.scrollHeight;
}

function emptyChat() {
  return h(
    "div",
    { class: "empty-chat" },
    h("p", { class: "empty-title" }, "Talk to your ChatKit server"),
    h("p", { class: "muted" }, "Messages, widgets, tool calls and every raw event appear here and in the log."),
  );
}

function rerenderItem(id) {
  const item = state.items.find((entry) => entry.id === id);
  const old = $("items").querySelector(`[data-id="${CSS.escape(id)}"]`);
  if (!item || !old) return renderItems();
  old.replaceWith(renderItem(item, view(), itemActions));
}

function upsertItem(item) {
  const index = state.items.findIndex((entry) => entry.id === item.id);
  const container = $("items");
  const stick = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  if (index >= 0) {
    state.items[index] = item;
    rerenderItem(item.id);
  } else {
    appendItem(item);
  }
  if (stick) container.scrollTop = container.scrollHeight;
}

// A new item goes after the others and before any error or stop note; the rest stay as drawn.
function appendItem(item) {
  const previous = state.items.at(-1);
  state.items.push(item);
  const container = $("items");
  container.querySelector(".empty-chat")?.remove();
  const note = state.transient.find((element) => element.isConnected) ?? null;
  container.insertBefore(renderItem(item, view(), itemActions), note);
  // Only the newest client tool call can be answered.
  if (previous?.type === "client_tool_call") rerenderItem(previous.id);
}

function addTransient(element) {
  state.transient.push(element);
  $("items").append(element);
  $("items").scrollTop = $("items").scrollHeight;
}

// -- streaming ------------------------------------------------------------------------------

async function runStream(type, params) {
  if (state.stream) return;
  const controller = new AbortController();
  state.stream = { controller, allowCancel: false, type };
  clearTransient();
  updateBusy();
  try {
    await client.stream(type, params, { signal: controller.signal, onEvent: handleEvent });
  } catch (error) {
    if (error.name === "AbortError") {
      addTransient(h("div", { class: "stopped" }, "Stopped — the server keeps the partial answer"));
    } else {
      showFailure(error);
    }
  } finally {
    const streamed = [...state.streamingIds];
    state.stream = null;
    state.streamingIds.clear();
    setProgress(null);
    updateBusy();
    refreshStreamed(streamed);
  }
}

// Items left unfinished by a stopped or failed stream lose their streaming look.
function refreshStreamed(ids) {
  for (const id of ids) rerenderItem(id);
}

function clearTransient() {
  for (const element of state.transient) element.remove();
  state.transient = [];
}

function handleEvent(event) {
  switch (event.type) {
    case "thread.created":
      state.thread = event.thread;
      state.items = [];
      history.replaceState(null, "", `#${event.thread.id}`);
      rememberThread(event.thread, { prepend: true });
      break;
    case "thread.updated":
      rememberThread(event.thread);
      break;
    case "thread.item.added":
      state.streamingIds.add(event.item.id);
      if (["assistant_message", "widget", "workflow"].includes(event.item.type)) setProgress(null);
      upsertItem(event.item);
      break;
    case "thread.item.updated": {
      const item = state.items.find((entry) => entry.id === event.item_id);
      if (item) upsertItem(applyItemUpdate(item, event.update));
      break;
    }
    case "thread.item.done":
    case "thread.item.replaced":
      state.streamingIds.delete(event.item.id);
      if (["assistant_message", "widget"].includes(event.item.type)) setProgress(null);
      upsertItem(event.item);
      break;
    case "thread.item.removed":
      state.items = state.items.filter((entry) => entry.id !== event.item_id);
      renderItems();
      break;
    case "stream_options":
      state.stream.allowCancel = event.stream_options?.allow_cancel === true;
      updateBusy();
      break;
    case "progress_update":
      setProgress(event);
      break;
    case "client_effect":
      toast(`Client effect “${event.name}” ${JSON.stringify(event.data ?? {})}`);
      break;
    case "notice":
      showNotice(event);
      break;
    case "error":
      addTransient(errorCard(event.code === "custom" && event.message ? event.message : "Something went wrong while generating the response.", event.code, event.allow_retry));
      break;
    default:
      break;
  }
}

function errorCard(message, code, allowRetry) {
  const card = h("div", { class: "card error-card item" }, h("div", { class: "card-kicker" }, `error · ${code}`), h("div", {}, message));
  const user = state.items.findLast((entry) => entry.type === "user_message");
  if (allowRetry && user) {
    card.append(h("div", { class: "row-actions" }, h("button", { class: "btn btn-sm", type: "button", onclick: () => retryAfter(user) }, icon("retry", 13), "Retry")));
  }
  return card;
}

function showFailure(error) {
  if (error instanceof APIError) {
    addTransient(errorCard(error.message, `${error.status} ${error.code}`, false));
    if (error.status === 401) markAuth(false);
  } else {
    addTransient(errorCard(`The request failed: ${error.message}`, "network", false));
  }
}

function showNotice(event) {
  const notice = h(
    "div",
    { class: ["notice", event.level] },
    h("div", { class: "grow" }, event.title ? h("strong", {}, event.title) : null, renderMarkdown(event.message)),
    h("button", { class: "icon-btn", type: "button", "aria-label": "dismiss", onclick: () => notice.remove() }, icon("close", 13)),
  );
  $("notices").append(notice);
}

function setProgress(event) {
  $("progress").hidden = !event;
  $("progress-text").textContent = event ? `${event.icon ? `${glyph(event.icon)} ` : ""}${event.text}` : "";
}

function updateBusy() {
  const busy = state.stream !== null;
  $("send").disabled = busy || state.attachments.some((entry) => entry.status === "uploading");
  $("stop").hidden = !(busy && state.stream.allowCancel);
  document.body.dataset.busy = String(busy);
}

// -- the composer ---------------------------------------------------------------------------

async function send() {
  if (state.stream) return;
  const input = $("composer-input");
  const text = input.value.trim();
  const ready = state.attachments.filter((entry) => entry.status === "ready");
  if (!text && !ready.length) return;
  const message = {
    content: text ? [{ type: "input_text", text }] : [],
    attachments: ready.map((entry) => entry.record.id),
    inference_options: {},
  };
  input.value = "";
  state.attachments = [];
  renderAttachments();
  if (state.thread) await runStream("threads.add_user_message", { thread_id: state.thread.id, input: message });
  else await runStream("threads.create", { input: message });
}

async function attach(files) {
  const strategy = $("upload-strategy").value;
  for (const file of files) {
    const entry = { key: crypto.randomUUID(), file, status: "uploading", record: null, error: null };
    state.attachments.push(entry);
    renderAttachments();
    try {
      entry.record = strategy === "two_phase" ? await client.uploadTwoPhase(file) : await client.uploadDirect(file);
      entry.status = "ready";
    } catch (error) {
      entry.status = "failed";
      entry.error = error.message;
      toast(`Upload of ${file.name} failed: ${error.message}`, "error");
    }
    renderAttachments();
  }
}

async function detach(entry) {
  state.attachments = state.attachments.filter((other) => other !== entry);
  renderAttachments();
  if (entry.record) await guarded(() => client.call("attachments.delete", { attachment_id: entry.record.id }));
}

function renderAttachments() {
  $("composer-attachments").replaceChildren(
    ...state.attachments.map((entry) =>
      h(
        "div",
        { class: ["pending-att", entry.status], dataset: { status: entry.status, name: entry.file.name } },
        entry.record ? attachmentView(entry.record) : h("span", { class: "file-chip" }, entry.file.name),
        h("div", { class: "att-state" }, entry.status === "ready" ? (entry.record.type === "image" ? "image" : "file") : entry.status),
        h("button", { class: "remove", type: "button", title: "Remove (attachments.delete)", "aria-label": `remove ${entry.file.name}`, onclick: () => detach(entry) }, "✕"),
      ),
    ),
  );
  updateBusy();
}

// -- auth, toasts, errors -------------------------------------------------------------------

function applyToken(token) {
  client.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  markAuth(null);
}

function markAuth(ok) {
  const label = $("auth-state");
  if (ok === false) {
    label.textContent = "401 — token needed";
    label.className = "auth-state c-danger";
    $("token-input").focus();
    return;
  }
  label.textContent = client.token ? "sending token" : settings.auth === "bearer" ? "server wants a token" : "";
  label.className = ["auth-state", client.token && "on"].filter(Boolean).join(" ");
}

/** Run a request; on failure show it and resolve to null. */
async function guarded(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof APIError && error.status === 401) markAuth(false);
    toast(error.message, "error");
    return null;
  }
}

function toast(text, kind = "") {
  const element = h("div", { class: ["toast", kind] }, text);
  $("toasts").append(element);
  setTimeout(() => element.remove(), kind === "error" ? 6000 : 3500);
}

// -- start ----------------------------------------------------------------------------------

function wire() {
  decorate();
  $("app-name").textContent = `app: ${settings.app}`;
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => state.stream?.controller.abort());
  $("file-input").addEventListener("change", (event) => {
    attach([...event.target.files]);
    event.target.value = "";
  });
  const strategy = $("upload-strategy");
  strategy.value = localStorage.getItem(STRATEGY_KEY) ?? "direct";
  strategy.addEventListener("change", () => localStorage.setItem(STRATEGY_KEY, strategy.value));
  $("new-thread").addEventListener("click", newThread);
  $("threads-more").addEventListener("click", () => loadThreads({ more: true }));
  $("log-clear").addEventListener("click", () => log.clear());
  $("auth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    applyToken($("token-input").value.trim());
    loadThreads();
    if (state.thread) openThread(state.thread.id);
  });
}

async function loadSchema() {
  const label = $("schema-state");
  try {
    await checker.load();
    label.textContent = "schema ✓ draft 2020-12";
    label.className = "pill ok";
    label.title = `Every entry is checked against ${settings.schema_path} with Ajv`;
    log.recheck();
  } catch (error) {
    label.textContent = "schema failed";
    label.className = "pill bad";
    label.title = error.message;
  }
}

async function start() {
  wire();
  const token = sessionStorage.getItem(TOKEN_KEY) ?? "";
  $("token-input").value = token;
  applyToken(token);
  loadSchema();
  await loadThreads();
  const threadId = decodeURIComponent(location.hash.slice(1));
  if (threadId) await openThread(threadId);
  else renderItems();
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  $("fatal").hidden = false;
  $("fatal").textContent = `The inspector failed to start: ${error.message}`;
});
