// The raw log beside the chat: every request, response and stream event, schema-checked.

import { clock, h, pretty } from "./dom.js";

const ARROWS = { req: "→", res: "←", evt: "⇣", note: "•" };

/** The log panel; entries are validated as soon as the schema is ready. */
export class EventLog {
  constructor({ list, counts, onlyBad, checker }) {
    this.list = list;
    this.counts = counts;
    this.onlyBad = onlyBad;
    this.checker = checker;
    this.entries = [];
    onlyBad.addEventListener("change", () => this.#applyFilter());
  }

  /** Add one entry: `{dir, name, sub?, body, def?}`; `def` names the `$defs` entry to check. */
  add(entry) {
    const record = { ...entry, time: new Date(), result: null, element: null };
    this.entries.push(record);
    this.#check(record);
    record.element = this.#render(record);
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.append(record.element);
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
    this.#updateCounts();
    return record;
  }

  /** Check the entries logged before the schema was ready. */
  recheck() {
    for (const record of this.entries) {
      if (record.result !== null || !record.def) continue;
      this.#check(record);
      const fresh = this.#render(record);
      record.element.replaceWith(fresh);
      record.element = fresh;
    }
    this.#updateCounts();
  }

  clear() {
    this.entries = [];
    this.list.replaceChildren();
    this.#updateCounts();
  }

  get violations() {
    return this.entries.filter((record) => record.result && !record.result.valid).length;
  }

  #check(record) {
    if (!record.def || !this.checker.ready) return;
    try {
      record.result = this.checker.check(record.def, record.body);
    } catch (error) {
      record.result = { valid: false, def: record.def, errors: [{ path: "", message: `validator failed: ${error.message}` }] };
    }
  }

  #render(record) {
    const state = this.#state(record);
    const badge = {
      valid: "✓ valid",
      invalid: `✗ ${record.result?.errors.length ?? 0} violation${record.result?.errors.length === 1 ? "" : "s"}`,
      pending: "checking…",
      none: record.dir === "note" ? "" : "no schema",
    }[state];
    const detail = h("div", { class: "log-detail", hidden: true });
    const row = h(
      "div",
      { class: "log-row", onclick: () => this.#toggle(record, detail) },
      h("span", { class: "log-time" }, clock(record.time)),
      h("span", { class: `log-dir ${record.dir}`, title: record.dir }, ARROWS[record.dir] ?? ""),
      h("span", { class: "log-name", title: [record.name, record.sub].filter(Boolean).join(" ") }, record.name, record.sub ? h("span", { class: "sub" }, ` ${record.sub}`) : null),
      badge ? h("span", { class: `log-badge ${state}`, title: record.result?.def ?? "" }, badge) : h("span"),
    );
    const element = h("li", { class: ["log-entry", state], dataset: { dir: record.dir, name: record.name, state } }, row, detail);
    if (state === "invalid") this.#fill(record, detail);
    element.hidden = this.onlyBad.checked && state !== "invalid";
    return element;
  }

  #state(record) {
    if (!record.def) return "none";
    if (record.result === null) return "pending";
    return record.result.valid ? "valid" : "invalid";
  }

  #toggle(record, detail) {
    if (!detail.firstChild) this.#fill(record, detail);
    detail.hidden = !detail.hidden;
  }

  #fill(record, detail) {
    const errors = record.result && !record.result.valid ? record.result.errors : [];
    const body = h("pre", { class: "json" }, typeof record.body === "string" ? record.body : pretty(record.body));
    if (!errors.length) {
      detail.replaceChildren(body);
      return;
    }
    // A violation shows its errors at once; the JSON is one click away.
    detail.replaceChildren(
      h(
        "ul",
        { class: "violations" },
        h("li", {}, `against $defs/${record.result.def}:`),
        errors.map((error) => h("li", {}, h("span", { class: "path" }, error.path || "/"), " ", error.message)),
      ),
      h("details", { class: "raw" }, h("summary", {}, "JSON"), body),
    );
    detail.hidden = false;
  }

  #applyFilter() {
    for (const record of this.entries) {
      record.element.hidden = this.onlyBad.checked && this.#state(record) !== "invalid";
    }
  }

  #updateCounts() {
    const events = this.entries.filter((record) => record.dir === "evt").length;
    const bad = this.violations;
    this.counts.replaceChildren(
      `${this.entries.length} entries · ${events} events · `,
      h("span", { class: bad ? "c-danger" : "c-success" }, `${bad} violation${bad === 1 ? "" : "s"}`),
    );
  }
}
