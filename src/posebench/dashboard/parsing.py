"""What a person hands in on the pages is parsed, decoded and scored outside the web server.

``engine.isolated`` runs the work in a short-lived worker process with a memory and a time
limit, holding a slot of the server's queue (``access.queue``) like an upload's content check;
a file that breaks a limit costs that process, and the page shows one sentence.
"""

from __future__ import annotations

from pathlib import Path

from posebench.access import queue
from posebench.analysis import keypoint_accuracy
from posebench.engine import isolated
from posebench.io import untrusted_files
from posebench.store import references


def in_worker(target, kwargs: dict, what: str):
    """``target(**kwargs)`` in a worker process under the limits, in the server's queue."""
    return isolated.call(target, kwargs, what, gate=lambda: queue.server_queue().slot(f"reading {what}"))


def reference_rows(data: bytes, shown: str | None) -> list[references.ClipReference]:
    """The references of a CSV a person imports (checked on its bytes here first: size,
    header, columns and rows; ``references.CSV_LIMITS``), parsed in a worker process."""
    untrusted_files.check_small_csv(
        bytes(data), shown or "the references file", "the file", references.CSV_LIMITS
    )
    return in_worker(references.parse_rows, {"data": data, "shown": shown}, shown or "the references file")


def score_annotations(images_dir: Path, annotations_path: Path, configs: list, shown: str):
    """``keypoint_accuracy.evaluate`` of annotated images in a worker process: the COCO file is read,
    each image's header checked against the pixel limit, the images decoded and scored there."""
    kwargs = {"images_dir": images_dir, "annotations_path": annotations_path, "configs": list(configs)}
    return in_worker(keypoint_accuracy.evaluate, kwargs, shown)


__all__ = ["in_worker", "reference_rows", "score_annotations"]
