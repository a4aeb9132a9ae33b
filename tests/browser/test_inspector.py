"""The inspector (`/inspector`) in Chromium against real servers: chat, widgets, uploads, tools."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.canned import CannedEndpoint, canned_app
from tests.browser.conftest import Servers, Shot, bearer
from tests.browser.servers import DATA, ServerProcess, ThreadedServer

SAVE_WAIT_SECONDS = 15


def open_inspector(page: Page, server: ServerProcess | ThreadedServer, suffix: str = "") -> None:
    """Open the inspector and wait until it has loaded its threads and the schema."""
    page.goto(f"{server.url}/inspector{suffix}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#schema-state")).to_have_class(re.compile(r"\bok\b"))


def say(page: Page, text: str) -> None:
    """Type a message into the composer and press Enter."""
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def items(page: Page, item_type: str) -> Locator:
    return page.locator(f'.item[data-type="{item_type}"]')


def last_answer(page: Page) -> Locator:
    """The text of the newest assistant message."""
    return items(page, "assistant_message").last.locator(".assistant")


def log_entries(page: Page, name: str) -> Locator:
    return page.locator(f'.log-entry[data-name="{name}"]')


def current_thread_id(page: Page) -> str:
    expect(page.locator("#thread-id")).to_have_text(re.compile(r"^thr_"))
    return page.locator("#thread-id").inner_text()


def create_thread(server: ServerProcess, text: str) -> None:
    """`threads.create` over HTTP, reading the stream to its end."""
    body = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": text}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    with httpx.stream("POST", f"{server.url}/chatkit", json=body, timeout=20) as response:
        assert response.status_code == 200
        response.read()


def saved_items(server: ServerProcess, thread_id: str, item_type: str) -> list[dict[str, Any]]:
    """The stored items of a type, oldest first."""
    page = server.api("items.list", {"thread_id": thread_id, "order": "asc", "limit": 100})
    return [item for item in page["data"] if item["type"] == item_type]


# -- the tasks app, offline ----------------------------------------------------------------


def test_tasks_add_list_done_and_reload(
    page: Page, shot: Shot, tasks_server: ServerProcess
) -> None:
    open_inspector(page, tasks_server)
    say(page, "add buy milk")
    expect(last_answer(page)).to_have_text("Added “buy milk”.")
    # The answer arrived as deltas applied live, then the finished item.
    expect(log_entries(page, "thread.item.updated").filter(has_text="text_delta")).to_have_count(1)
    expect(
        log_entries(page, "thread.item.done").filter(has_text="assistant_message")
    ).to_have_count(1)
    shot("streamed-answer")

    say(page, "list")
    row = items(page, "widget").last.locator(".w-lvi", has_text="buy milk")
    done = row.get_by_role("button", name="Done")
    expect(done).to_be_enabled()
    expect(row.locator(".w-text")).not_to_have_css("text-decoration-line", "line-through")
    shot("list-widget")

    done.click()
    expect(row.locator(".w-text")).to_have_css("text-decoration-line", "line-through")
    expect(done).to_be_disabled()
    expect(last_answer(page)).to_have_text("Marked “buy milk” as done.")
    expect(log_entries(page, "threads.custom_action")).to_have_count(1)
    expect(log_entries(page, "thread.item.replaced")).to_have_count(1)
    shot("done-clicked")

    thread_id = current_thread_id(page)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    entry = page.locator(f'.thread[data-id="{thread_id}"]')
    expect(entry.locator(".thread-title")).to_have_text("add buy milk")
    expect(entry).to_have_class(re.compile(r"\bactive\b"))
    reloaded = items(page, "widget").last.locator(".w-lvi", has_text="buy milk")
    expect(reloaded.locator(".w-text")).to_have_css("text-decoration-line", "line-through")
    expect(page.locator(".log-entry.invalid")).to_have_count(0)
    shot("after-reload")


def test_thread_list_pages_renames_and_deletes(
    page: Page, shot: Shot, tasks_server: ServerProcess
) -> None:
    for text in ("first thread", "second thread", "third thread"):
        create_thread(tasks_server, text)
    page.on("dialog", lambda dialog: dialog.accept())
    open_inspector(page, tasks_server, "?threads_page=2")
    threads = page.locator(".thread")
    expect(threads).to_have_count(2)
    expect(threads.first.locator(".thread-title")).to_have_text("third thread")
    page.locator("#threads-more").click()
    expect(threads.nth(2).locator(".thread-title")).to_have_text("first thread")
    shot("paged")

    second = page.locator(".thread", has_text="second thread")
    thread_id = second.get_attribute("data-id")
    second.hover()
    second.get_by_role("button", name="rename").click()
    field = page.locator(".thread-rename")
    field.fill("Renamed by the inspector")
    field.press("Enter")
    expect(page.locator(f'.thread[data-id="{thread_id}"] .thread-title')).to_have_text(
        "Renamed by the inspector"
    )
    stored = tasks_server.api("threads.get_by_id", {"thread_id": thread_id})
    assert stored["title"] == "Renamed by the inspector"
    shot("renamed")

    renamed = page.locator(f'.thread[data-id="{thread_id}"]')
    renamed.hover()
    renamed.get_by_role("button", name="delete").click()
    expect(renamed).to_have_count(0)
    with pytest.raises(httpx.HTTPStatusError) as missing:
        tasks_server.api("threads.get_by_id", {"thread_id": thread_id})
    assert missing.value.response.status_code == 404

    page.locator("#new-thread").click()
    expect(page.locator("#thread-title")).to_have_text("New thread")
    shot("deleted")


@pytest.mark.parametrize("strategy", ["direct", "two_phase"])
def test_image_upload_shows_its_preview(
    page: Page, shot: Shot, tasks_server: ServerProcess, strategy: str
) -> None:
    open_inspector(page, tasks_server)
    page.select_option("#upload-strategy", strategy)
    page.set_input_files("#file-input", str(DATA / "swatch.png"))
    preview = page.locator('.pending-att[data-status="ready"] img.thumb')
    expect(preview).to_be_visible()
    preview_url = preview.get_attribute("src") or ""
    assert preview_url.startswith(f"{tasks_server.url}/chatkit/files/atc_")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 48", arg=preview.element_handle()
    )
    if strategy == "direct":
        expect(log_entries(page, "POST upload")).to_have_count(1)
    else:
        expect(log_entries(page, "attachments.create")).to_have_count(1)
        expect(log_entries(page, "POST upload_descriptor.url")).to_have_count(1)
    shot("composer-preview")

    say(page, "a photo of the colour I want")
    sent = items(page, "user_message").last.locator("img.thumb")
    expect(sent).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 48", arg=sent.element_handle()
    )
    expect(
        log_entries(page, "thread.item.done").filter(has_text="assistant_message")
    ).to_have_count(1)
    thread_id = current_thread_id(page)
    [message] = saved_items(tasks_server, thread_id, "user_message")
    assert [attachment["name"] for attachment in message["attachments"]] == ["swatch.png"]
    assert "upload_descriptor" not in message["attachments"][0]
    shot("sent-with-preview")


# -- scripted models ---------------------------------------------------------------------------


@pytest.fixture
def slow_server(servers: Servers) -> ServerProcess:
    return servers.slow


@pytest.fixture
def tool_server(servers: Servers) -> ServerProcess:
    return servers.tool


@pytest.fixture
def structured_server(servers: Servers) -> ServerProcess:
    return servers.structured


def wait_for_saved_answer(server: ServerProcess, thread_id: str) -> str:
    """The text of the assistant message the server saved on cancellation."""
    deadline = time.monotonic() + SAVE_WAIT_SECONDS
    while time.monotonic() < deadline:
        answers = saved_items(server, thread_id, "assistant_message")
        if answers:
            return "".join(part["text"] for part in answers[0]["content"])
        time.sleep(0.1)
    raise AssertionError("the partial answer was not saved")


def test_stop_keeps_the_partial_answer(page: Page, shot: Shot, slow_server: ServerProcess) -> None:
    open_inspector(page, slow_server)
    say(page, "tell me a story")
    answer = items(page, "assistant_message").last
    expect(answer).to_contain_text("Once upon a time")
    stop = page.locator("#stop")
    expect(stop).to_be_visible()
    shot("streaming")
    stop.click()
    expect(page.locator(".stopped")).to_be_visible()
    expect(stop).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    shot("stopped")

    saved = wait_for_saved_answer(slow_server, current_thread_id(page))
    assert saved.startswith("Once upon a time")
    assert not saved.endswith("The end.")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    kept = items(page, "assistant_message")
    expect(kept).to_have_count(1)
    expect(kept.locator(".md")).to_have_text(saved)
    shot("partial-answer-after-reload")


def test_client_tool_call_answered_by_hand(
    page: Page, shot: Shot, tool_server: ServerProcess
) -> None:
    open_inspector(page, tool_server)
    say(page, "Where am I?")
    call = items(page, "client_tool_call")
    expect(call).to_contain_text("get_location")
    expect(call).to_contain_text('"precision": "city"')
    editor = call.locator("textarea.json-editor")
    editor.fill('{"city": "Paris",')
    expect(editor).to_have_class(re.compile(r"\binvalid\b"))
    call.get_by_role("button", name="Send result").click()
    expect(log_entries(page, "threads.add_client_tool_output")).to_have_count(0)
    editor.fill('{"city": "Paris", "country": "FR"}')
    expect(editor).not_to_have_class(re.compile(r"\binvalid\b"))
    shot("tool-call-pending")

    call.get_by_role("button", name="Send result").click()
    expect(last_answer(page)).to_have_text("You are in Paris.")
    expect(call).to_contain_text("completed")
    [stored] = saved_items(tool_server, current_thread_id(page), "client_tool_call")
    assert stored["status"] == "completed"
    assert stored["output"] == {"city": "Paris", "country": "FR"}
    shot("tool-call-answered")


def test_structured_input_workflow_feedback_and_retry(
    page: Page, shot: Shot, structured_server: ServerProcess
) -> None:
    open_inspector(page, structured_server)
    say(page, "Add a task for me")
    expect(items(page, "workflow")).to_contain_text("I need its priority.")
    expect(log_entries(page, "progress_update")).to_have_count(1)
    expect(log_entries(page, "client_effect")).to_have_count(1)
    question = items(page, "structured_input")
    expect(question).to_contain_text("What priority should I use?")
    question.get_by_label("High").check()
    question.locator("textarea").fill("before Friday")
    shot("structured-input")

    question.get_by_role("button", name="Submit").click()
    answer = items(page, "assistant_message").last
    expect(answer.locator(".assistant")).to_have_text("Noted: high priority.")
    expect(question).to_contain_text("answered")
    expect(question).to_contain_text("before Friday")
    [stored] = saved_items(structured_server, current_thread_id(page), "structured_input")
    answers = {entry["id"]: entry["answer"] for entry in stored["inputs"]}
    assert answers == {
        "priority": {"values": ["High"], "skipped": False},
        "notes": {"values": ["before Friday"], "skipped": False},
    }
    shot("answered")

    answer.hover()
    answer.get_by_role("button", name="thumbs up").click()
    expect(log_entries(page, "200 items.feedback")).to_have_count(1)
    expect(answer.get_by_role("button", name="thumbs up")).to_have_class(re.compile(r"\bpressed\b"))
    shot("feedback")

    user = items(page, "user_message").first
    user.hover()
    user.get_by_role("button", name="retry").click()
    expect(last_answer(page)).to_have_text("Asked again.")
    expect(items(page, "structured_input")).to_have_count(0)
    expect(log_entries(page, "threads.retry_after_item")).to_have_count(1)
    expect(page.locator(".log-entry.invalid")).to_have_count(0)
    shot("retried")


# -- authentication --------------------------------------------------------------------------


def test_inspector_sends_the_bearer_token(
    page: Page, shot: Shot, jwt_server: ServerProcess
) -> None:
    open_inspector(page, jwt_server)
    expect(page.locator("#auth-state")).to_contain_text("401")
    shot("token-needed")
    page.fill("#token-input", bearer("alice"))
    page.locator("#token-apply").click()
    expect(page.locator("#auth-state")).to_have_text("sending token")
    say(page, "add buy milk")
    expect(last_answer(page)).to_have_text("Added “buy milk”.")
    expect(page.locator(".thread .thread-title")).to_have_text(["add buy milk"])
    shot("signed-in")
    alice = jwt_server.api("threads.list", {}, token=bearer("alice"))
    assert [thread["title"] for thread in alice["data"]] == ["add buy milk"]
    assert jwt_server.api("threads.list", {}, token=bearer("bob"))["data"] == []


# -- stand-in servers: a schema-breaking stream, a widget gallery --------------------------


def canned_server(
    tmp_path_factory: pytest.TempPathFactory, answers: dict[str, str]
) -> Iterator[tuple[ThreadedServer, CannedEndpoint]]:
    endpoint = CannedEndpoint(answers)
    server = ThreadedServer(canned_app(endpoint, tmp_path_factory.mktemp("canned")))
    yield server, endpoint
    server.stop()


@pytest.fixture(scope="module")
def bad_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ThreadedServer, CannedEndpoint]]:
    answers = {"threads.list": "no_threads.json", "threads.create": "bad_stream.jsonl"}
    yield from canned_server(tmp_path_factory, answers)


def bad_events() -> list[str]:
    return (DATA / "bad_stream.jsonl").read_text(encoding="utf-8").splitlines()


def test_schema_violations_are_marked_in_the_log(
    page: Page, shot: Shot, bad_server: tuple[ThreadedServer, CannedEndpoint]
) -> None:
    open_inspector(page, bad_server[0])
    say(page, "hello")
    bad = page.locator(".log-entry.invalid")
    expect(bad).to_have_count(3)
    expect(bad.nth(0)).to_contain_text("/update/content_index must be integer")
    expect(bad.nth(1)).to_contain_text('/item/created_at must match format "date-time"')
    expect(bad.nth(2)).to_contain_text("thread.item.exploded")
    expect(bad.nth(2)).to_contain_text('/type must be one of "thread.created", "thread.updated"')
    events = page.locator('.log-entry[data-dir="evt"]')
    expect(events).to_have_count(len(bad_events()))
    expect(page.locator('.log-entry.valid[data-dir="evt"]')).to_have_count(len(bad_events()) - 3)
    expect(page.locator("#log-counts")).to_contain_text("3 violations")
    shot("violations")
    page.check("#log-only-bad")
    expect(page.locator(".log-entry:visible")).to_have_count(3)
    shot("violations-only")


@pytest.fixture(scope="module")
def gallery_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ThreadedServer, CannedEndpoint]]:
    answers = {
        "threads.list": "gallery_threads.json",
        "threads.get_by_id": "gallery_thread.json",
        "threads.custom_action": "gallery_action.jsonl",
        "threads.sync_custom_action": "gallery_sync.json",
    }
    yield from canned_server(tmp_path_factory, answers)


def test_widgets_are_drawn_and_their_actions_sent(
    page: Page, shot: Shot, gallery_server: tuple[ThreadedServer, CannedEndpoint]
) -> None:
    server, endpoint = gallery_server
    open_inspector(page, server, "#thr_gallery")
    widget = items(page, "widget")
    card = widget.locator(".w-card")
    expect(card.locator(".w-status")).to_have_text(re.compile("Widget gallery"))
    for component in ("Row", "Col", "Box", "Icon", "Spacer", "Divider", "Form", "Input", "Label"):
        expect(card.locator(f'[data-component="{component}"]').first).to_be_attached()
    expect(card.locator(".w-title")).to_have_text("Every component")
    expect(card.locator(".w-caption").first).to_have_text(
        "Drawn by the inspector from the widget JSON"
    )
    expect(card.locator(".w-badge")).to_have_text("beta")
    expect(card.locator(".w-markdown strong")).to_have_text("bold")
    expect(card.locator("img.w-image")).to_have_attribute("alt", "swatch")
    expect(card.locator('.w-unknown[data-type="Chart"]')).to_contain_text('"dataKey": "tasks"')
    page.locator("#items").evaluate("element => { element.scrollTop = 0; }")
    shot("gallery")

    submit = card.get_by_role("button", name="Submit")
    submit.click()
    assert endpoint.sent("threads.custom_action") == []  # the required name is missing
    card.get_by_placeholder("Your name").fill("Ada")
    card.locator("select").select_option("blue")
    card.get_by_label("Subscribe").check()
    submit.click()
    status = card.locator(".w-text", has_text="Waiting")
    expect(status).to_have_text("Waiting, then submitted")
    notice = page.locator(".notice.warning")
    expect(notice).to_contain_text("Heads up")
    expect(notice.locator("strong", has_text="demo")).to_be_visible()
    expect(log_entries(page, "progress_update")).to_have_count(1)
    [sent] = endpoint.sent("threads.custom_action")
    assert sent == {
        "thread_id": "thr_gallery",
        "item_id": "msg_w",
        "action": {
            "type": "gallery.submit",
            "payload": {
                "source": "form",
                "person": {"name": "Ada"},
                "colour": "blue",
                "subscribe": True,
            },
        },
    }
    shot("form-submitted")

    card.get_by_role("button", name="Refresh in place").click()
    expect(widget.locator(".w-title")).to_have_text("Refreshed in place")
    expect(widget).to_have_count(1)
    assert endpoint.sent("threads.sync_custom_action") == [
        {
            "thread_id": "thr_gallery",
            "item_id": "msg_w",
            "action": {"type": "gallery.refresh", "payload": {"n": 1}},
        }
    ]
    expect(page.locator(".log-entry.invalid")).to_have_count(0)
    shot("updated-in-place")
