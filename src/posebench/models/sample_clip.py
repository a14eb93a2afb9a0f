"""The bundled default sample clip: Sports2D's demo video, fetched on demand.

The clip is never stored in the repository. ``ensure_sample()`` returns a
verified copy from the user cache (``<cache>/clips/``), fetching it first from
the PyPI wheel that ships it (``sports2d==0.8.34``, BSD-3-Clause) with the same
checked, atomic machinery the model store uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posebench.core.catalogue import Source
from posebench.core.errors import BenchError
from posebench.models.verify import verify


@dataclass(frozen=True)
class SampleClip:
    name: str
    filename: str  # name in the cache (the shared/ clips use the same)
    upstream: str  # where the bytes sit upstream
    bytes: int
    sha256: str
    sources: tuple[Source, ...]
    licence: str
    description: str


SAMPLE = SampleClip(
    name="sports2d_demo",
    filename="boxflip_and_walk_2persons_sports2d.mp4",
    upstream="Sports2D/Demo/demo.mp4 in the sports2d 0.8.34 wheel",
    bytes=3_968_304,
    sha256="d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039",
    sources=(Source("pypi", "sports2d==0.8.34", member="Sports2D/Demo/demo.mp4"),),
    licence="BSD-3-Clause (Sports2D, (c) David Pagnon / perfanalytics)",
    description=(
        "A man backflips off a box while a woman walks past: two people, "
        "side view, VP9, 1768x994, 30 fps, 230 frames (7.7 s)."
    ),
)


class SampleUnavailable(BenchError):
    """The sample clip could not be found, fetched or verified."""


def clip_cache_dir() -> Path:
    from posebench.models.model_store import cache_root

    return cache_root() / "clips"


def cached_sample() -> Path | None:
    """The verified cached copy, or None."""
    path = clip_cache_dir() / SAMPLE.filename
    return path if path.exists() and verify(SAMPLE, path) is None else None


def ensure_sample(fetch: bool = True) -> Path:
    """Path of a verified copy of the sample clip; fetch it when allowed."""
    path = clip_cache_dir() / SAMPLE.filename
    tried: list[str] = []
    if path.exists():
        problem = verify(SAMPLE, path)
        if problem is None:
            return path
        tried.append(problem + " - not used")
    else:
        tried.append(f"{path}: not there")
    if fetch:
        from posebench.models.fetch import fetch_from_sources

        fetched, more = fetch_from_sources(SAMPLE, clip_cache_dir())
        tried += more
        if fetched is not None:
            return fetched
    raise SampleUnavailable(
        f"the sample clip ({SAMPLE.upstream}) is not available. Tried: {'; '.join(tried)}. "
        f"Choose your own clip instead, or copy the file to {path}."
    )
