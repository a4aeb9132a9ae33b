// The ChatKit protocol over fetch(): JSON requests, SSE streams and both upload strategies.

import { sseData } from "./sse.js";

// Which `$defs` entry of the schema describes each JSON response (SPEC §4).
const RESPONSE_DEFS = {
  "threads.get_by_id": "Thread",
  "threads.update": "Thread",
  "threads.list": "Page_Thread",
  "items.list": "Page_ThreadItem",
  "attachments.create": "Attachment",
  "input.transcribe": "TranscriptionResult",
  "threads.sync_custom_action": "SyncCustomActionResponse",
};

/** A request the server refused: its status and the JSON error body's message and code. */
export class APIError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? "http_error";
    this.body = body;
  }
}

/** Speaks the protocol to one server, logging every request, response and event. */
export class ChatKitClient {
  constructor({ apiUrl, uploadUrl, log }) {
    this.apiUrl = apiUrl;
    this.uploadUrl = uploadUrl;
    this.log = log;
    this.token = "";
  }

  /** A non-streaming request; resolves to the JSON body. */
  async call(type, params) {
    const response = await this.#post(type, params);
    const body = await this.#json(response, type);
    if (!response.ok) throw new APIError(response.status, body);
    return body;
  }

  /** A streaming request; calls `onEvent` per event and resolves when the stream ends. */
  async stream(type, params, { signal, onEvent }) {
    const response = await this.#post(type, params, signal);
    const contentType = response.headers.get("content-type") ?? "";
    if (!response.ok || !contentType.startsWith("text/event-stream")) {
      const body = await this.#json(response, type);
      throw new APIError(response.status, body);
    }
    for await (const data of sseData(response.body)) {
      let event;
      try {
        event = JSON.parse(data);
      } catch {
        this.log.add({ dir: "evt", name: "(not JSON)", body: data, def: "ThreadStreamEvent" });
        continue;
      }
      this.log.add({ dir: "evt", name: event?.type ?? "(no type)", sub: updateType(event), body: event, def: "ThreadStreamEvent" });
      onEvent(event);
    }
  }

  /** Direct upload: the file as the multipart part `file`; resolves to the attachment. */
  async uploadDirect(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    this.log.add({ dir: "req", name: "POST upload", sub: file.name, body: { file: file.name, size: file.size, type: file.type } });
    const response = await fetch(this.uploadUrl, { method: "POST", headers: this.#auth(), body: form });
    const body = await this.#json(response, "upload", "Attachment");
    if (!response.ok) throw new APIError(response.status, body);
    return body;
  }

  /** Two-phase upload: `attachments.create`, then the bytes to its upload descriptor. */
  async uploadTwoPhase(file) {
    const record = await this.call("attachments.create", {
      name: file.name,
      size: file.size,
      mime_type: file.type || "application/octet-stream",
    });
    const descriptor = record.upload_descriptor;
    if (!descriptor) return record;
    const form = new FormData();
    form.append("file", file, file.name);
    this.log.add({ dir: "req", name: `${descriptor.method} upload_descriptor.url`, sub: file.name, body: descriptor });
    const response = await fetch(descriptor.url, { method: descriptor.method, headers: descriptor.headers ?? {}, body: form });
    const body = await this.#json(response, "upload", "Attachment");
    if (!response.ok) throw new APIError(response.status, body);
    return body && typeof body === "object" && body.id === record.id ? body : { ...record, upload_descriptor: undefined };
  }

  async #post(type, params, signal) {
    const body = { type, params };
    this.log.add({ dir: "req", name: type, body, def: "ChatKitReq" });
    return fetch(this.apiUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.#auth() },
      body: JSON.stringify(body),
      signal,
    });
  }

  #auth() {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  async #json(response, type, okDef = RESPONSE_DEFS[type]) {
    const text = await response.text();
    let body = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: logged as text, and shown as the error's message.
    }
    const def = response.ok ? okDef : "ErrorBody";
    this.log.add({ dir: "res", name: `${response.status} ${type}`, body, def: typeof body === "object" ? def : undefined });
    return typeof body === "object" ? body : { message: `HTTP ${response.status}: ${String(body).slice(0, 200)}` };
  }
}

function updateType(event) {
  if (event?.type === "thread.item.updated") return event.update?.type?.replace(/^assistant_message\.content_part\./, "part.");
  return event?.item?.type;
}
