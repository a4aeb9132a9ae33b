"""ChatKit thread items → Agents SDK input items (AGENTS-ADAPTER §2.5).

The model sees the thread as Responses input items: user and assistant messages, completed
client tool calls as a function call plus its output, and everything else the user was shown
(widgets, tasks, structured input, images) or the app noted (hidden context) as user messages
that say what they are. Subclass `ThreadItemConverter` to change how a piece is rendered, e.g.
to send an attachment's bytes instead of a reference to it.

Every item is one both model APIs accept: the Responses API, and Chat Completions through
the Agents SDK's converter. That is why an earlier answer goes back as plain text content:
the reference's `output_text` parts without an item id make the converter raise `Unknown
content`, and a made-up item id would name a response item the provider never stored.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agents import TResponseInputItem
from openai.types.responses import EasyInputMessageParam, ResponseInputContentParam

from chatkit_proto.attachments import Attachment
from chatkit_proto.content import UserMessageTagContent
from chatkit_proto.items import (
    AssistantMessageItem,
    ClientToolCallItem,
    GeneratedImageItem,
    HiddenContextItem,
    SDKHiddenContextItem,
    StructuredInputItem,
    TaskItem,
    ThreadItem,
    ThreadItemBase,
    UserMessageItem,
    WidgetItem,
    WorkflowItem,
)
from chatkit_proto.structured_input import StructuredInput
from chatkit_proto.workflows import CustomTask, Task

TAG_INSTRUCTIONS = (
    "The user @-mentioned the entities below. Refer to each of them by its plain name, "
    "without the @ prefix: the @ form exists only in the user's composer."
)


class ThreadItemConverter:
    """Renders thread items as model input; every method is a hook to override."""

    async def to_agent_input(
        self, thread_items: Sequence[ThreadItem] | ThreadItem
    ) -> list[TResponseInputItem]:
        """The model input for thread items (oldest first), or for one item."""
        items = [thread_items] if isinstance(thread_items, ThreadItemBase) else thread_items
        converters: dict[str, Callable[[Any], Awaitable[list[TResponseInputItem]]]] = {
            "assistant_message": self.assistant_message_to_input,
            "client_tool_call": self.client_tool_call_to_input,
            "widget": self.widget_to_input,
            "workflow": self.workflow_to_input,
            "task": self.task_to_input,
            "structured_input": self.structured_input_to_input,
            "hidden_context_item": self.hidden_context_to_input,
            "sdk_hidden_context": self.hidden_context_to_input,
            "generated_image": self.generated_image_to_input,
        }
        result: list[TResponseInputItem] = []
        last = len(items) - 1
        for position, item in enumerate(items):
            if isinstance(item, UserMessageItem):
                result.extend(
                    await self.user_message_to_input(item, is_last_message=position == last)
                )
            else:
                convert = converters.get(item.type)
                if convert is not None:
                    result.extend(await convert(item))
        return result

    # -- user messages -----------------------------------------------------------------------

    async def user_message_to_input(
        self, item: UserMessageItem, is_last_message: bool = True
    ) -> list[TResponseInputItem]:
        """The message itself, then what the user quoted (newest message only), then tags."""
        text = "".join(
            f"@{part.text}" if isinstance(part, UserMessageTagContent) else part.text
            for part in item.content
        )
        content: list[ResponseInputContentParam] = [{"type": "input_text", "text": text}]
        content.extend([await self.attachment_to_message_content(a) for a in item.attachments])
        converted = [_user_message(content)]
        if is_last_message and item.quoted_text:
            converted.append(_user_text(await self.quoted_text_to_message_text(item.quoted_text)))
        tags = {part.text: part for part in item.content if isinstance(part, UserMessageTagContent)}
        if tags:
            tag_parts: list[ResponseInputContentParam] = [
                {"type": "input_text", "text": TAG_INSTRUCTIONS}
            ]
            tag_parts.extend([await self.tag_to_message_content(tag) for tag in tags.values()])
            converted.append(_user_message(tag_parts))
        return converted

    async def quoted_text_to_message_text(self, quoted: str) -> str:
        """What the model is told about the text the user replied to."""
        return (
            "The user is referring specifically to this earlier text:\n"
            f"<QuotedText>\n{quoted}\n</QuotedText>"
        )

    async def attachment_to_message_content(
        self, attachment: Attachment
    ) -> ResponseInputContentParam:
        """An attachment as a content part: by default a reference the model can cite."""
        return {
            "type": "input_text",
            "text": (
                f"<ATTACHMENT id={attachment.id} name={attachment.name} "
                f"mime_type={attachment.mime_type}/>"
            ),
        }

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputContentParam:
        """An @-mention as a content part: by default its id, group and text."""
        group = f" group={tag.group}" if tag.group is not None else ""
        return {"type": "input_text", "text": f"<TAG id={tag.id}{group}>{tag.text}</TAG>"}

    # -- everything else ---------------------------------------------------------------------

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> list[TResponseInputItem]:
        """The assistant's text, parts joined by newlines; citations are not sent back.

        A message without text (an answer cancelled before its first word) is left out:
        Chat Completions providers reject an empty assistant turn.
        """
        text = "\n".join(part.text for part in item.content if part.text)
        if not text:
            return []
        return [{"type": "message", "role": "assistant", "content": text}]

    async def client_tool_call_to_input(self, item: ClientToolCallItem) -> list[TResponseInputItem]:
        """A completed call and its output; a pending call is not shown to the model."""
        if item.status == "pending":
            return []
        return [
            {
                "type": "function_call",
                "call_id": item.call_id,
                "name": item.name,
                "arguments": json.dumps(item.arguments),
            },
            {
                "type": "function_call_output",
                "call_id": item.call_id,
                "output": json.dumps(item.output),
            },
        ]

    async def widget_to_input(self, item: WidgetItem) -> list[TResponseInputItem]:
        """The widget the user saw, as JSON."""
        widget_json = item.widget.model_dump_json(by_alias=True, exclude_none=True)
        return [_user_text(f"A widget (id {item.id}) was shown to the user:\n{widget_json}")]

    async def workflow_to_input(self, item: WorkflowItem) -> list[TResponseInputItem]:
        """Each custom task the user saw; thoughts and other tasks are left out."""
        return [converted for task in item.workflow.tasks for converted in _task_input(task)]

    async def task_to_input(self, item: TaskItem) -> list[TResponseInputItem]:
        """A standalone task, as a task of a workflow."""
        return _task_input(item.task)

    async def structured_input_to_input(
        self, item: StructuredInputItem
    ) -> list[TResponseInputItem]:
        """The questions the user was asked and how each was answered."""
        lines = "\n".join(_answer_line(question) for question in item.inputs)
        return [
            _user_text(
                f"The user was asked these questions (status: {item.status}):\n"
                f"<StructuredInput>\n{lines}\n</StructuredInput>"
            )
        ]

    async def hidden_context_to_input(
        self, item: HiddenContextItem | SDKHiddenContextItem
    ) -> list[TResponseInputItem]:
        """A note for the model that the user never saw."""
        content = item.content if isinstance(item.content, str) else json.dumps(item.content)
        return [
            _user_text(
                "Hidden context for the agent (not shown to the user):\n"
                f"<HiddenContext>\n{content}\n</HiddenContext>"
            )
        ]

    async def generated_image_to_input(self, item: GeneratedImageItem) -> list[TResponseInputItem]:
        """An image the assistant made, shown to the model again."""
        if item.image is None:
            return []
        return [
            _user_message(
                [
                    {"type": "input_text", "text": "The assistant generated this image:"},
                    {"type": "input_image", "image_url": item.image.url, "detail": "auto"},
                ],
            )
        ]


def _task_input(task: Task) -> list[TResponseInputItem]:
    if not isinstance(task, CustomTask) or not (task.title or task.content):
        return []
    body = ": ".join(part for part in (task.title, task.content) if part)
    return [_user_text(f"A task was shown to the user:\n<Task>\n{body}\n</Task>")]


def _answer_line(question: StructuredInput) -> str:
    answer = question.answer
    if answer is None:
        value = "unanswered"
    elif answer.skipped:
        value = "skipped"
    else:
        value = ", ".join(answer.values) or "unanswered"
    return f"{question.question}: {value}"


def _user_message(content: list[ResponseInputContentParam]) -> TResponseInputItem:
    message: EasyInputMessageParam = {"role": "user", "type": "message", "content": content}
    return message


def _user_text(text: str) -> TResponseInputItem:
    return _user_message([{"type": "input_text", "text": text}])


_DEFAULT = ThreadItemConverter()


async def simple_to_agent_input(
    thread_items: Sequence[ThreadItem] | ThreadItem,
) -> list[TResponseInputItem]:
    """The model input for thread items (oldest first), with the default conventions."""
    return await _DEFAULT.to_agent_input(thread_items)
