"""The scan on Ray: the same blocks of lines, judged by the same `Judge`, as Ray tasks.

Locally, `ray.init` starts Ray on this machine; with RAY_ADDRESS set (or `ray start`
run on a cluster) the tasks run across the cluster. Results are collected in block
order, so the flags file is identical to the local engine's."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.services.scan import Judge, Judged


def judged_on_ray(judge: Judge, blocks: Iterator[tuple[int, bytes]], workers: int) -> Iterator[Judged]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        judge_ref = ray.put(judge)  # shipped to each worker once, not with every block

        @ray.remote
        def judge_block(judge: Judge, first: int, data: bytes) -> Judged:
            return judge.block(first, data)

        pending: deque[Any] = deque()
        for first, data in blocks:
            pending.append(judge_block.remote(judge_ref, first, data))
            if len(pending) >= workers * 2:  # bounded: the driver's memory stays flat
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())
    finally:
        if started_here:
            ray.shutdown()
