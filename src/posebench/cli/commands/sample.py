"""``python -m posebench sample``: fetch (if needed) and show the bundled sample clip."""

from __future__ import annotations

from posebench.models import sample_clip


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument(
        "--no-fetch", action="store_true", help="only look in the cache; fail if the clip is not there"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    path = sample_clip.ensure_sample(fetch=not args.no_fetch)
    clip = sample_clip.SAMPLE
    print(f"ok      sample clip: {path}")
    print(f"        {clip.description}")
    print(f"        from {clip.upstream}; licence {clip.licence}")
    return 0
