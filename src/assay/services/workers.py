"""Work shared with forked worker processes, results kept in order.

Used where a file is cut into blocks that are parsed (and judged) independently, while
one process keeps what must follow the file's order: duplicates, checkpoints, writes."""

from __future__ import annotations

import fcntl
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import Any

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux
PIPE_SIZE = 1 << 20  # the most a process may ask for without privileges (/proc/sys/fs/pipe-max-size)
AHEAD = 3  # tasks in flight per process: enough to keep them busy, few enough to keep memory flat


def in_order(function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], processes: int) -> Iterator[Any]:
    """`function(*task)` for each task, in the tasks' order: in this process when `processes` is
    0, else in that many forked processes, a few tasks ahead of the consumer. `function`
    must be a module-level callable (or a `functools.partial` of one); the workers inherit
    everything this process held when the pool was forked. A worker whose parent dies finds
    its task pipe closed and exits, so a killed run leaves no process behind."""
    if processes <= 0:
        for task in tasks:
            yield function(*task)
        return
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pending: deque[Any] = deque()
        for task in tasks:
            pending.append(pool.apply_async(function, task))
            if len(pending) >= processes * AHEAD:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


class ReadAhead:
    """The items of `produce(*args)`, made in a forked child process while this one consumes
    them. The child starts at once, and works on the next item as soon as the last one is in the
    pipe (which holds up to a megabyte).

    No thread runs here to fetch the items, unlike a `Pool`'s: such a thread competes for the
    interpreter with the consumer, which then waits for it each time a database driver gives
    the interpreter up. An exception in the child is raised here. Closing (or this process
    dying) closes the pipe, and the child exits at its next item."""

    def __init__(self, produce: Callable[..., Iterator[Any]], *args: Any) -> None:
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        with suppress(OSError):  # room for a batch or so of records (the default is 64 kB)
            fcntl.fcntl(sender.fileno(), F_SETPIPE_SZ, PIPE_SIZE)
        self.child = context.Process(target=_produce, args=(self.receiver, sender, produce, args), daemon=True)
        self.child.start()
        sender.close()
        self.closed = False

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> Any:
        if self.closed:
            raise StopIteration
        try:
            kind, item = self.receiver.recv()
        except EOFError:
            self.close()
            raise ChildProcessError(f"the process reading ahead stopped (exit code {self.child.exitcode})") from None
        if kind == "item":
            return item
        self.close()
        if kind == "error":
            raise item
        raise StopIteration

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.receiver.close()
        self.child.join(timeout=5)
        if self.child.is_alive():
            self.child.kill()
            self.child.join()


def _produce(receiver: Any, sender: Any, produce: Callable[..., Iterator[Any]], args: tuple[Any, ...]) -> None:
    receiver.close()  # the parent's end: with this copy closed, the parent's death breaks the pipe
    try:
        try:
            for item in produce(*args):
                sender.send(("item", item))
        except Exception as problem:  # noqa: BLE001 - handed to the consumer, which raises it
            sender.send(("error", problem))
            return
        sender.send(("done", None))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the consumer is gone
