"""Start the dashboard (``streamlit run app.py``) on a free local port and stop it again, and
the browser that looks at it (Debian's chromium, headless, 1280×800): for the browser tests,
the screenshots and the dashboard-versus-CLI benchmark; and keep Streamlit out of its old
"pages folder" mode (``clear_pages_folder``)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright's own browsers are never installed
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)
VIEWPORT = {"width": 1280, "height": 800}

PAGES_FOLDER = "pages"  # beside app.py: Streamlit's old multipage mode, see clear_pages_folder
CACHE_NAMES = frozenset({"__pycache__", ".DS_Store"})  # left behind by Python and file browsers


def clear_pages_folder(app_root: Path) -> Path | None:
    """Remove a ``pages`` folder beside ``app.py`` that holds no page: returns it when it holds
    files of its own (then it is left alone), else None.

    The pages are functions (``dashboard.page_registry``) since the page files went; a checkout from
    before keeps an empty ``pages`` folder, or one with only Python's caches in it. Streamlit
    decides once per server, when the first browser connects, whether the app uses such a
    folder; if it exists, the first request runs in the old mode, which knows no page but the
    start page, so the very first link to a page on a fresh server ("/Run?clip=...") showed
    "Page not found" over the right page. Without the folder, every first request is routed by
    ``st.navigation``.
    """
    folder = Path(app_root) / PAGES_FOLDER
    if not folder.is_dir():
        return None
    if any(entry.name not in CACHE_NAMES for entry in folder.iterdir()):
        return folder
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # something appeared meanwhile: leave it
        return folder
    return None


@dataclass(frozen=True)
class Served:
    url: str  # http://127.0.0.1:PORT
    pid: int  # the streamlit process


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_app(
    app_root: Path,
    env: Mapping[str, str],
    log_path: Path,
    start_timeout_s: float = 60.0,
    page_files: bool = False,
) -> Iterator[Served]:
    """``streamlit run app.py`` in ``app_root`` on a free local port with ``env``; yields it
    once it answers its health check, and stops it (terminate, then kill) at the end. Its
    output goes to ``log_path``; ``RuntimeError`` when it does not start, or when a ``pages``
    folder with files beside ``app.py`` would put Streamlit in its old mode (``clear_pages_folder``)
    unless ``page_files``: an older checkout whose pages were files there (a before/after check)."""
    stray = None if page_files else clear_pages_folder(app_root)
    if stray is not None:
        raise RuntimeError(f"{stray} holds files: Streamlit would run it as the app's pages; move it away")
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
            + ["--server.address", "127.0.0.1", "--server.port", str(port)],
            cwd=app_root,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(proc, url, start_timeout_s, log_path)
            yield Served(url, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_until_healthy(proc: subprocess.Popen, url: str, timeout_s: float, log_path: Path) -> None:
    """Until ``/_stcore/health`` answers (a port gives no event to wait on, hence the polling)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log_path}") from None
            time.sleep(0.3)
