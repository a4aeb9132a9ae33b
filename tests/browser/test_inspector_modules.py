"""The inspector's modules run in Chromium on their own: SSE parsing, Markdown, updates, forms."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.servers import ServerProcess

SSE = """async (chunks) => {
  const { sseData } = await import("/static/inspector/sse.js");
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const out = [];
  for await (const data of sseData(body)) out.push(data);
  return out;
}"""
MARKDOWN = """async (source) => {
  const { renderMarkdown } = await import("/static/inspector/markdown.js");
  const root = renderMarkdown(source);
  return {
    html: root.innerHTML,
    links: [...root.querySelectorAll("a")].map((a) => a.getAttribute("href")),
    tags: [...root.querySelectorAll("*")].map((element) => element.tagName.toLowerCase()),
  };
}"""
UPDATES = """async ([item, updates]) => {
  const { applyItemUpdate } = await import("/static/inspector/items.js");
  return updates.reduce((current, update) => applyItemUpdate(current, update), item);
}"""
FORM = """async (payload) => {
  const { withFormValues } = await import("/static/inspector/widgets.js");
  const form = document.createElement("form");
  form.innerHTML = `<input name="todo.title" value="Milk"><input name="todo.due" value="mon">
    <input type="checkbox" name="urgent" checked><input type="radio" name="size" value="s">
    <input type="radio" name="size" value="l" checked><input name="source" value="form">`;
  return withFormValues(payload, form);
}"""


def blank_inspector(page: Page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/inspector")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def test_sse_parsing_follows_the_html_standard(page: Page, tasks_server: ServerProcess) -> None:
    blank_inspector(page, tasks_server)
    chunks = [
        'data: {"a":1}\r',
        "\n\r\n: ping\n",
        "data: x\ndata:y\n\n",
        "event: e\nid: 1\n\n",
        "data: cut",
    ]
    # CRLF split across chunks, comments (D10 keep-alives), multi-line data, no-data events,
    # and an unterminated event at the end, which is dropped.
    assert page.evaluate(SSE, chunks) == ['{"a":1}', "x\ny"]


def test_markdown_never_becomes_markup(page: Page, tasks_server: ServerProcess) -> None:
    blank_inspector(page, tasks_server)
    source = (
        '<img src=x onerror="alert(1)"> **bold** and `code`\n\n'
        "- [ok](https://example.com/a) [bad](javascript:alert(1))\n- two\n\n```\n<b>raw</b>\n```"
    )
    rendered: dict[str, Any] = page.evaluate(MARKDOWN, source)
    assert "img" not in rendered["tags"] and "<b>" not in rendered["html"]
    assert rendered["links"] == ["https://example.com/a"]
    assert {"strong", "code", "ul", "li", "pre"} <= set(rendered["tags"])
    assert "&lt;img src=x" in rendered["html"]


def test_updates_apply_as_spec_section_9_says(page: Page, tasks_server: ServerProcess) -> None:
    blank_inspector(page, tasks_server)
    item = {"id": "m", "type": "assistant_message", "content": []}
    part = "assistant_message.content_part."
    source = {"type": "url", "title": "A", "url": "https://a.example"}
    updates = [
        # An index that was never added is padded (SPEC §9.1).
        {"type": f"{part}text_delta", "content_index": 1, "delta": "Hi"},
        {"type": f"{part}text_delta", "content_index": 1, "delta": " there"},
        {
            "type": f"{part}annotation_added",
            "content_index": 1,
            "annotation_index": 5,
            "annotation": {"type": "annotation", "source": source},
        },
    ]
    result = page.evaluate(UPDATES, [item, updates])
    assert result["content"] == [
        {"annotations": [], "text": "", "type": "output_text"},
        {
            "annotations": [{"type": "annotation", "source": source}],
            "text": "Hi there",
            "type": "output_text",
        },
    ]
    workflow = {
        "id": "w",
        "type": "workflow",
        "workflow": {"type": "custom", "tasks": [], "expanded": False},
    }
    task = {"type": "custom", "title": "one", "status_indicator": "loading"}
    done = {**task, "status_indicator": "complete"}
    steps = [
        {"type": "workflow.task.added", "task_index": 0, "task": task},
        {"type": "workflow.task.updated", "task_index": 0, "task": done},
    ]
    assert page.evaluate(UPDATES, [workflow, steps])["workflow"]["tasks"] == [done]
    widget = {
        "id": "x",
        "type": "widget",
        "widget": {
            "type": "Card",
            "children": [{"type": "Text", "id": "t", "value": "Hel", "streaming": True}],
        },
    }
    delta = [
        {
            "type": "widget.streaming_text.value_delta",
            "component_id": "t",
            "delta": "lo",
            "done": True,
        }
    ]
    text = page.evaluate(UPDATES, [widget, delta])["widget"]["children"][0]
    assert text["value"] == "Hello" and text["streaming"] is False


def test_form_values_nest_and_never_override_the_payload(
    page: Page, tasks_server: ServerProcess
) -> None:
    blank_inspector(page, tasks_server)
    assert page.evaluate(FORM, {"source": "button"}) == {
        "source": "button",
        "todo": {"title": "Milk", "due": "mon"},
        "urgent": True,
        "size": "l",
    }
    assert page.evaluate(FORM, None)["source"] == "form"
