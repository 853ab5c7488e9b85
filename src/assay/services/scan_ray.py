"""The scan on Ray Data: the same blocks of lines, judged by the same `Judge`.

The dataset holds, for each block of `listings.jsonl` (`line_blocks`), where it lies in the
file and how many lines precede it: a few numbers, so the driver's memory stays flat however
big the file. `map_batches` runs a callable class on Ray workers, which receives the judge
once per worker, reads its block from the snapshot (which the workers see, as they see its
photos) and judges it; the results come back in block order (`preserve_order`), so the
driver drops duplicate ids, counts the sellers' activity and writes the flags exactly as the
local engine does, and the flags file is identical to the local engine's.

Locally, `ray.init` starts Ray on this machine; with RAY_ADDRESS set (or `ray start` run on
a cluster) the blocks are judged across the cluster."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.services.scan import Judge, Judged


class JudgeBlocks:
    """`map_batches`' function: a batch of block positions in, their `Judged`, pickled, out."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        judged = []
        with (self.judge.root / "listings.jsonl").open("rb") as listings:
            for first, offset, size in zip(batch["first"], batch["offset"], batch["size"], strict=True):
                listings.seek(int(offset))
                judged.append(pickle.dumps(self.judge.block(int(first), listings.read(int(size)))))
        return {"judged": np.array(judged, dtype=object)}


def judged_on_ray(judge: Judge, blocks: Iterable[tuple[int, int, int]], workers: int) -> Iterator[Judged]:
    """`blocks`: (lines before, byte offset, byte size) of each block of listings.jsonl, in order."""
    import ray
    import ray.data

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # the flags are written in listing order
        context.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no plan and progress lines among the scan's output
        items = [{"first": first, "offset": offset, "size": size} for first, offset, size in blocks]
        if not items:
            return
        actors = ray.data.ActorPoolStrategy(size=min(workers, len(items)))  # one per worker, each given the judge once
        dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            JudgeBlocks, fn_constructor_args=(judge,), batch_size=1, compute=actors, num_cpus=1)
        for row in dataset.iter_rows():
            yield pickle.loads(row["judged"])
    finally:
        if started_here:
            ray.shutdown()
