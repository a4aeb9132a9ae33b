// Server-Sent Events from a fetch() body, parsed as the HTML standard says.

const LINE_END = /\r\n|\r|\n/;

/** Yield the `data` of each dispatched event; comments and other fields are skipped. */
export async function* sseData(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = null;
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      buffer += value;
      for (;;) {
        const match = LINE_END.exec(buffer);
        // A lone \r at the end may be the first half of a \r\n still on its way.
        if (match === null || (match[0] === "\r" && match.index === buffer.length - 1)) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (data !== null) yield data.join("\n");
          data = null;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let fieldValue = colon < 0 ? "" : line.slice(colon + 1);
        if (fieldValue.startsWith(" ")) fieldValue = fieldValue.slice(1);
        if (field === "data") (data ??= []).push(fieldValue);
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
  // An event without its closing blank line is discarded, as the standard says.
}
