"""Open streams: the thread lease each holds (D15), kept by a timer, and how they are stopped."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

import anyio

from .context import RequestContext
from .store.base import Store

logger = logging.getLogger("chatkit_proto.streams")


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to stream on one thread (D15), renewed while the stream lives."""

    thread_id: str
    token: str
    ttl_seconds: float


class StreamControl:
    """One open stream as its server sees it: its lease, and whether it was asked to stop.

    The pipeline calls `begin()` when it starts and `end()` when it is over; in between a
    timer renews the lease every third of its time, whatever the responder does. `stop()`
    comes from another task (server shutdown): a stream waiting for its responder (a slow
    tool, a thinking model) has that wait cancelled at once; any other stream stops before
    it next asks the responder for an event.
    """

    __slots__ = (
        "__weakref__",
        "_cancelled",
        "_keeper",
        "_over",
        "_timer",
        "awaiting_responder",
        "context",
        "ended",
        "lease",
        "started",
        "stop_requested",
        "store",
    )

    def __init__(
        self, store: Store, ctx: RequestContext, lease: Lease | None, *, stopped: bool = False
    ) -> None:
        self.store = store
        self.context = ctx
        self.lease = lease
        self.stop_requested = stopped
        self.awaiting_responder: asyncio.Task[Any] | None = None
        """The task running the stream while it waits for the responder's next event."""
        self.started = False
        self.ended = asyncio.Event()
        # A timer until the next renewal, then a task while it runs: most streams end before
        # the first renewal is due, and a timer costs far less than a task.
        self._timer: asyncio.TimerHandle | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._over = False
        self._cancelled: asyncio.Task[Any] | None = None

    def begin(self) -> None:
        """The stream starts: keep its lease from now on."""
        self.started = True
        self._schedule_renewal()

    def stop(self) -> None:
        """Ask the stream to end now, with its final `error` event."""
        if self.stop_requested:
            return
        self.stop_requested = True
        task = self.awaiting_responder
        if task is not None:
            # The stream's task is suspended inside the responder: only a cancellation
            # reaches it there. `absorb_stop()` takes it back once the responder let go.
            self._cancelled = task
            task.cancel()

    def absorb_stop(self) -> bool:
        """Whether the cancellation the stream caught came from `stop()` alone; clears it."""
        task, self._cancelled = self._cancelled, None
        return task is not None and task.uncancel() == 0

    async def end(self) -> None:
        """The stream is over: stop renewing the lease and give it back."""
        self._over = True
        if self._timer is not None:
            self._timer.cancel()
        keeper = self._keeper
        if keeper is not None:
            keeper.cancel()
            await asyncio.wait([keeper])
        await self.release()
        self.ended.set()

    def _schedule_renewal(self) -> None:
        lease = self.lease
        if lease is not None and not self._over:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(lease.ttl_seconds / 3, self._start_renewal, lease)

    def _start_renewal(self, lease: Lease) -> None:
        self._timer = None
        self._keeper = asyncio.create_task(self._renew(lease))

    async def _renew(self, lease: Lease) -> None:
        try:
            held = await self.store.acquire_stream_lease(
                lease.thread_id, lease.token, lease.ttl_seconds, self.context
            )
        except Exception:
            logger.exception("could not renew the stream lease of %s", lease.thread_id)
        else:
            if not held:
                logger.warning("the stream lease of %s was taken over", lease.thread_id)
        self._keeper = None
        self._schedule_renewal()

    async def release(self) -> None:
        """Give the lease back (a lease already released or taken over is left alone)."""
        lease = self.lease
        if lease is None:
            return
        try:
            await self.store.release_stream_lease(lease.thread_id, lease.token, self.context)
        except Exception:
            logger.exception("could not release the stream lease of %s", lease.thread_id)


class OpenStreams:
    """The streams one server has open, so that shutdown can stop every one of them."""

    def __init__(self) -> None:
        # Weak: a stream whose frames were dropped unread must not be kept forever.
        self._controls: weakref.WeakSet[StreamControl] = weakref.WeakSet()
        self.closing = False

    def open(self, store: Store, ctx: RequestContext, lease: Lease | None) -> StreamControl:
        """The control of a new stream; after shutdown began it is stopped from the start."""
        control = StreamControl(store, ctx, lease, stopped=self.closing)
        self._controls.add(control)
        return control

    async def stop_all(self, grace_seconds: float) -> None:
        """Stop every open stream, wait up to `grace_seconds` for them, release every lease."""
        self.closing = True
        controls = [control for control in self._controls if not control.ended.is_set()]
        for control in controls:
            control.stop()
        with anyio.move_on_after(grace_seconds):
            for control in controls:
                if control.started:
                    await control.ended.wait()
        for control in controls:
            if not control.ended.is_set():
                # Never started, or its client stopped reading: the thread must not stay
                # locked for a lease time after the restart.
                await control.release()
