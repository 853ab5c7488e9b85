"""The scan on Ray: the same chunks, judged by the same `Detector`, as Ray tasks.

Locally, `ray.init` starts Ray on this machine; with RAY_ADDRESS set (or `ray start`
run on a cluster) the tasks run across the cluster. The driver reads and validates
the snapshot, as the local engine does, because rejects name file lines and a
duplicate id is a property of the whole file; the judging, which is the heavy part,
goes to the workers. Results are collected in chunk order, so the flags file is
identical to the local engine's."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay.detection.pipeline import Detector
from assay.services.feed_reader import Chunk


def judged_on_ray(detector: Detector, root: Path, stream: Iterator[Chunk], workers: int) -> Iterator[tuple[Chunk, list]]:
    import ray

    from assay.services.scan import judge_chunk

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        detector_ref = ray.put(detector)  # shipped to each worker once, not with every chunk
        judge = ray.remote(judge_chunk)
        pending: deque[tuple[Chunk, Any]] = deque()
        for chunk in stream:
            pending.append((chunk, judge.remote(detector_ref, root, chunk.accepted)))
            if len(pending) >= workers * 2:  # bounded: the driver's memory stays flat
                done, ref = pending.popleft()
                yield done, ray.get(ref)
        while pending:
            done, ref = pending.popleft()
            yield done, ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()
