"""Work shared with forked worker processes, results kept in order.

Used where a file is cut into blocks that are parsed (and judged) independently, while
one process keeps what must follow the file's order: duplicates, checkpoints, writes."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

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


def read_ahead(produce: Callable[..., Iterator[Any]], *args: Any) -> Iterator[Any]:
    """The items of `produce(*args)`, made in a forked child process while this one consumes
    them: the child works on the next item as soon as it has handed over the last one.

    No thread runs here to fetch the items, unlike a `Pool`'s: such a thread competes for the
    interpreter with the consumer, which then waits for it each time a database driver gives
    the interpreter up. An exception in the child is raised here; closing this generator, or
    this process dying, closes the pipe, and the child exits at its next item."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce, args=(receiver, sender, produce, args), daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, item = receiver.recv()
            except EOFError:
                raise ChildProcessError(f"the process reading ahead stopped (exit code {child.exitcode})") from None
            if kind == "done":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()


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
