// ChatKit icon names (SPEC §14) as glyphs; unknown names show as their name.

const GLYPHS = {
  agent: "◎", analytics: "↗", atom: "⚛", batch: "▤", bolt: "⚡", "book-open": "❏",
  "book-closed": "▮", "book-clock": "◷", bug: "✱", calendar: "▦", chart: "▥",
  check: "✓", "check-circle": "✔", "check-circle-filled": "✔", "chevron-left": "‹",
  "chevron-right": "›", "circle-question": "?", clock: "◷", compass: "⊕", confetti: "✺",
  cube: "▣", desktop: "▭", document: "▯", dot: "•", "dots-horizontal": "⋯",
  "dots-vertical": "⋮", "empty-circle": "○", "external-link": "↗", globe: "◍", keys: "⚿",
  lab: "⚗", images: "▨", info: "ℹ", lifesaver: "◉", lightbulb: "✹", mail: "✉",
  "map-pin": "⚲", maps: "▧", mobile: "▯", name: "☺", notebook: "▤",
  "notebook-pencil": "✎", "page-blank": "▯", phone: "☎", play: "▶", plus: "+",
  profile: "☺", "profile-card": "☷", reload: "↻", star: "☆", "star-filled": "★",
  search: "⌕", sparkle: "✦", "sparkle-double": "✧", "square-code": "⌘",
  "square-image": "▨", "square-text": "▤", suitcase: "⊟", "settings-slider": "⚙",
  user: "☺", wreath: "❦", write: "✎", "write-alt": "✎", "write-alt2": "✐",
};

/** The glyph for an icon name (`lucide:`/`vendor:` names show their short name). */
export function glyph(name) {
  if (!name) return "";
  return GLYPHS[name] ?? `[${String(name).replace(/^(lucide|vendor):/, "")}]`;
}
