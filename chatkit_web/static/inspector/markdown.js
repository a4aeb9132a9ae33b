// A small Markdown renderer (paragraphs, headings, lists, quotes, code, emphasis, links) that
// builds DOM nodes, so that text from the server can never become markup.

import { h } from "./dom.js";

const SAFE_URL = /^(https?:|mailto:)/i;
const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|\*([^*\s][^*]*?)\*|_([^_\s][^_]*?)_|~~([\s\S]+?)~~|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/;

/** A `div.md` holding `source` rendered as Markdown. */
export function renderMarkdown(source, className = "md") {
  const root = h("div", { class: className });
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  renderBlocks(lines, root);
  return root;
}

function renderBlocks(lines, parent) {
  let index = 0;
  while (index < lines.length) {
    const line = lines[index];
    if (/^\s*$/.test(line)) {
      index += 1;
      continue;
    }
    const fence = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      const body = [];
      index += 1;
      while (index < lines.length && !lines[index].trim().startsWith(fence[1])) body.push(lines[index++]);
      index += 1;
      parent.append(h("pre", {}, h("code", { class: fence[2] ? `lang-${fence[2]}` : null }, body.join("\n"))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      parent.append(inline(h(`h${Math.min(heading[1].length + 1, 6)}`), heading[2].replace(/\s#+\s*$/, "")));
      index += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      parent.append(h("hr"));
      index += 1;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (index < lines.length && /^\s*>/.test(lines[index])) quoted.push(lines[index++].replace(/^\s*>\s?/, ""));
      const quote = h("blockquote");
      renderBlocks(quoted, quote);
      parent.append(quote);
      continue;
    }
    const bullet = /^(\s*)([-*+]|\d+[.)])\s+/.exec(line);
    if (bullet) {
      index = renderList(lines, index, parent);
      continue;
    }
    const paragraph = [];
    while (index < lines.length && !/^\s*$/.test(lines[index]) && !startsBlock(lines[index])) paragraph.push(lines[index++]);
    if (paragraph.length === 0) paragraph.push(lines[index++]);
    const p = h("p");
    paragraph.forEach((text, position) => {
      if (position > 0) p.append(h("br"));
      inline(p, text);
    });
    parent.append(p);
  }
}

function startsBlock(line) {
  return /^(\s*(```|~~~)|#{1,6}\s|\s*>|\s*([-*+]|\d+[.)])\s+)/.test(line);
}

function renderList(lines, start, parent) {
  const ordered = /^\s*\d+[.)]\s+/.test(lines[start]);
  const list = h(ordered ? "ol" : "ul");
  let index = start;
  while (index < lines.length) {
    const match = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(lines[index]);
    if (!match || /^\s*\d+[.)]/.test(lines[index]) !== ordered) break;
    const item = h("li");
    const body = [match[3]];
    index += 1;
    while (index < lines.length && /^\s{2,}\S/.test(lines[index]) && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[index])) {
      body.push(lines[index++].trim());
    }
    inline(item, body.join(" "));
    list.append(item);
    while (index < lines.length && /^\s*$/.test(lines[index]) && /^\s*([-*+]|\d+[.)])\s+/.test(lines[index + 1] ?? "")) index += 1;
  }
  parent.append(list);
  return index;
}

/** Append `text` to `parent` with inline Markdown applied; returns `parent`. */
export function inline(parent, text) {
  let rest = text;
  while (rest) {
    const match = INLINE.exec(rest);
    if (!match) {
      parent.append(rest);
      break;
    }
    if (match.index > 0) parent.append(rest.slice(0, match.index));
    rest = rest.slice(match.index + match[0].length);
    const [, ticks, code, strong, strong2, em, em2, strike, label, href, bare] = match;
    if (ticks) parent.append(h("code", {}, code.replace(/^ (.*) $/, "$1")));
    else if (strong ?? strong2) parent.append(inline(h("strong"), strong ?? strong2));
    else if (em ?? em2) parent.append(inline(h("em"), em ?? em2));
    else if (strike) parent.append(inline(h("del"), strike));
    else if (label) parent.append(link(href, label));
    else if (bare) parent.append(link(bare, bare));
  }
  return parent;
}

function link(href, label) {
  if (!SAFE_URL.test(href)) return inline(h("span"), label);
  return inline(h("a", { href, target: "_blank", rel: "noopener noreferrer" }), label);
}
