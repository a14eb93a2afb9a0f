"""``python -m posebench models list|fetch [NAME ...]``."""

from __future__ import annotations

from posebench.core import catalogue
from posebench.core.errors import BenchError, ModelUnavailable
from posebench.models import model_store


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("action", choices=("list", "fetch"))
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="catalogue names (default for fetch: the lite set the dashboard uses)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    names = args.names or (
        [a.name for a in catalogue.CATALOGUE] if args.action == "list" else list(catalogue.DEFAULT_SET)
    )
    for name in names:
        catalogue.get(name)  # unknown names fail before anything is fetched
    if args.action == "list":
        for name in names:
            asset = catalogue.get(name)
            path, _ = model_store.find_local(name)
            size = f"{asset.bytes / 1e6:.1f} MB" if asset.bytes else "size unknown"
            sha = asset.sha256[:12] + "..." if asset.sha256 else "no known SHA-256"
            where = str(path) if path else "not here"
            print(f"{name:24s} {asset.role:10s} {size:>13s}  {sha:16s} {where}")
        return 0
    failed = []
    for name in names:
        try:
            path = model_store.resolve(name, fetch=True)
            linked = model_store.link_into_cache(name, path)  # the CLI finds it without the env
            print(f"ok      {name}: {path}" + (f" (linked from {linked})" if linked else ""))
        except ModelUnavailable as exc:
            failed.append(name)
            print(f"missing {name}: {exc}")
    if not args.names:  # set-up: every other verified file in POSEBENCH_MODEL_DIRS goes in the cache too
        for asset in catalogue.CATALOGUE:
            path, _tried = model_store.find_local(asset.name)
            if asset.name not in names and path is not None and model_store.link_into_cache(asset.name, path):
                print(f"linked  {asset.name}: {path}")
    if failed:
        raise BenchError(f"{len(failed)} of {len(names)} models could not be fetched: {', '.join(failed)}")
    return 0
