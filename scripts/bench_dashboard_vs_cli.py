#!/usr/bin/env python
"""Dashboard against command line: the same clip and settings, the two paths alternated.

    python scripts/bench_dashboard_vs_cli.py [CLIP] [--pairs 3] [--frames 100] [--warmup 10]
                                             [--rounds 3] [-b BACKEND ...] [--path page|worker]
    python scripts/bench_dashboard_vs_cli.py [CLIP] --sample-only [--app-root DIR] ...

Each pair runs the dashboard's path and the command line's path (``python -m posebench run``
in a subprocess), one right after the other, the order swapped every pair; each run times
every backend in ``--rounds`` interleaved rounds (default 3) and reports the median round, as
``summary.csv``'s ``fps`` does.

The dashboard's path (``--path``):

- ``page`` (the default): the real page, as a user sees it. ``streamlit run app.py`` on a free
  local port and headless Chromium (``/usr/bin/chromium``, 1280×800) **on the same machine**,
  the worst case, as on a laptop: the script opens the clip by its address, ticks the backends
  on the Run page, sets frames, warm-up and rounds, presses "Run benchmark" and waits for the
  results; the FPS comes from the run the page's worker saved. Meanwhile it samples the
  processor time of the server (without its worker), of the browser (every Chromium process)
  and of the worker, every second, in percent of one core.
- ``worker``: ``posebench.dashboard.background_jobs.RunJob`` in this process, the worker the Run page
  starts, without a server or a page (the check of issue 10).

It prints, per backend, the FPS of each path in each pair, the other work's share of the
processor the run recorded (``foreign_cpu_pct``, % of one core) on each side, the median of the
per-pair ratios dashboard / command line, and PASS when that lies within 0.95-1.05; exit status
0 when every backend passes. ``--sample-only`` runs the page once (no command line) and prints
only the processor shares: ``--app-root`` names the checkout whose ``app.py`` the server runs,
to measure another version of the page (before and after a change) with the same driver.
A speed script, not a test: the numbers are printed, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from posebench import backends
from posebench.dashboard import background_jobs, launch
from posebench.dashboard.launch import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from posebench.store import run_record

DEFAULT_CLIP = ROOT.parent / "shared" / "clips" / "cmj_front_jumpmat_30fps.mp4"
DEFAULT_BACKENDS = ["mediapipe-lite", "rtmpose-lightweight"]  # the Run page's and the CLI's defaults
LOW, HIGH = 0.95, 1.05
SAMPLE_S = 1.0  # the processor-time sampler's interval
RUN_TIMEOUT_MS = 1_800_000  # a page run may take this long


# -- results --------------------------------------------------------------------------------
def _saved(folder: Path) -> tuple[dict[str, float], dict]:
    """(backend -> FPS, backend -> other work's share while it was timed) of a saved run
    folder; the share is NaN for a run saved before runs recorded it."""
    summary = pd.read_csv(folder / "summary.csv")
    summary.columns = summary.columns.str.replace(r" \(.*\)$", "", regex=True)  # units in headers
    foreign = summary["foreign_cpu_pct"] if "foreign_cpu_pct" in summary else [float("nan")] * len(summary)
    return dict(zip(summary["backend"], summary["fps"])), dict(zip(summary["backend"], foreign))


def _newest(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir() and (p / "run.json").exists()]
    return max(folders, key=lambda p: p.stat().st_mtime)


# -- the processor-time sampler ----------------------------------------------------------------
def _cpu_s(process: psutil.Process) -> float:
    t = process.cpu_times()
    return t.user + t.system  # the process itself, not its children


class CpuSampler:
    """Processor time of the server (its worker left out), the browser (every Chromium process
    under this script) and the server's worker, sampled every ``SAMPLE_S`` seconds between
    ``start()`` and ``stop()``; ``shares()`` gives each in percent of one core."""

    def __init__(self, server_pid: int) -> None:
        self.server = psutil.Process(server_pid)
        self.me = psutil.Process()
        self.used = {"server": 0.0, "browser": 0.0, "worker": 0.0}
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = self._ended = 0.0

    def _groups(self) -> dict[int, tuple[str, psutil.Process]]:
        found = {self.server.pid: ("server", self.server)}
        with contextlib.suppress(psutil.Error):
            for child in self.server.children(recursive=True):
                found[child.pid] = ("worker", child)
        with contextlib.suppress(psutil.Error):
            for child in self.me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if "chrom" in child.name().lower():
                        found[child.pid] = ("browser", child)
        return found

    def _sample(self) -> None:
        for pid, (group, process) in self._groups().items():
            try:
                now = _cpu_s(process)
            except psutil.Error:
                continue
            _g, before = self._last.get(pid, (group, now if self._started else 0.0))
            self.used[group] += max(0.0, now - before)
            self._last[pid] = (group, now)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def start(self) -> None:
        for pid, (group, process) in self._groups().items():  # the baseline
            with contextlib.suppress(psutil.Error):
                self._last[pid] = (group, _cpu_s(process))
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._sample()
        self._ended = time.monotonic()
        self._stop.set()
        self._thread.join()
        return self.shares()

    def shares(self) -> dict[str, float]:
        wall = max(1e-9, (self._ended or time.monotonic()) - self._started)
        return {f"{k}_cpu_pct": 100.0 * v / wall for k, v in self.used.items()}


# -- the real page --------------------------------------------------------------------------
@contextlib.contextmanager
def streamlit_server(app_root: Path, clip: Path, results: Path, log: Path):
    """``streamlit run app.py`` of ``app_root`` on a free port; yields (url, process id)."""
    env = dict(
        os.environ,
        PYTHONPATH=str(app_root / "src"),
        POSEBENCH_RESULTS=str(results),
        POSEBENCH_CLIP_DIRS=str(clip.parent),
    )
    older = app_root.resolve() != ROOT.resolve()  # another checkout, maybe from the page-file days
    with launch.streamlit_app(app_root, env, log, start_timeout_s=120, page_files=older) as served:
        yield served.url, served.pid


class RunPage:
    """The Run page in headless Chromium, set up once for ``specs`` and the run's numbers."""

    def __init__(self, url: str, clip: Path, specs: list[str], frames: int, warmup: int, rounds: int):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        self.tab = self.browser.new_context(viewport=VIEWPORT).new_page()
        self.tab.set_default_timeout(120_000)
        self.tab.goto(url)
        self._go("Clip")
        self.tab.get_by_test_id("stSelectbox").filter(has_text="Clip").click()
        self.tab.get_by_role("option", name=clip.name).first.click()
        self.tab.wait_for_selector(f"[data-testid='stSidebar'] >> text={clip.name}")
        self._go("Run")
        self.tab.get_by_role("button", name="Run benchmark").wait_for()
        presets = {c.preset for c, _why in backends.list_presets()}
        wanted = {s for s in specs if s in presets}
        for preset in sorted(presets):
            box = self.tab.get_by_role("checkbox", name=preset, exact=True)
            if box.count() and box.is_enabled() and box.is_checked() != (preset in wanted):
                box.click(force=True)  # the input is hidden behind Streamlit's drawn box
                self.tab.wait_for_timeout(300)
        others = [s for s in specs if s not in presets]
        if others:
            self.tab.get_by_text("More configurations").click()
            area = self.tab.get_by_role("textbox", name="One per line")
            area.fill("\n".join(others))
            area.press("Control+Enter")
        for label, value in (("Frames to process", frames), ("Warm-up frames", warmup), ("Rounds", rounds)):
            box = self.tab.get_by_role("spinbutton", name=label)
            box.fill(str(value))
            box.press("Enter")
            self.tab.wait_for_function(
                "([l, v]) => document.querySelector(`input[aria-label='${l}']`).value == v",
                arg=[label, str(value)],
            )

    def _go(self, name: str) -> None:
        """Client-side navigation through the sidebar (a new address would start a new session)."""
        self.tab.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
        self.tab.wait_for_selector(f"h1:has-text('{name}')")

    def run(self, results: Path) -> Path:
        """Press "Run benchmark", wait until the page shows the saved run; its folder."""
        before = {p.name for p in results.iterdir()} if results.exists() else set()
        self.tab.get_by_role("button", name="Run benchmark").click()
        self.tab.get_by_role("button", name="Cancel").wait_for()  # the run has started
        self.tab.get_by_role("button", name="Cancel").wait_for(state="detached", timeout=RUN_TIMEOUT_MS)
        self.tab.wait_for_selector("text=Model load time", timeout=RUN_TIMEOUT_MS)
        new = [p for p in results.iterdir() if p.name not in before and (p / "run.json").exists()]
        if len(new) != 1:
            raise SystemExit(f"the page's run was not saved under {results}")
        self.tab.wait_for_selector(f"text={new[0].name}")
        return new[0]

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()


# -- the two paths -------------------------------------------------------------------------------
def worker_fps(clip: str, specs: list[str], frames: int, warmup: int, rounds: int, out: Path):
    job = background_jobs.RunJob(
        clip,
        [backends.parse(s) for s in specs],
        run_record.RunOptions(max_frames=frames, warmup=warmup, rounds=rounds),
        results_root=out,
    ).start()
    job.wait()
    if job.error or job.run is None:
        raise SystemExit(f"the dashboard path failed: {job.error}")
    return _saved(job.saved_to)


def cli_fps(clip: str, specs: list[str], frames: int, warmup: int, rounds: int, out: Path):
    args = [sys.executable, "-m", "posebench", "run", clip, "--frames", str(frames)]
    args += ["--warmup", str(warmup), "--rounds", str(rounds), "--out", str(out)]
    for spec in specs:
        args += ["-b", spec]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"the command-line path failed:\n{done.stdout}\n{done.stderr}")
    return _saved(_newest(out))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per run (median reported)")
    p.add_argument("-b", "--backend", action="append", dest="backends")
    p.add_argument("--path", choices=("page", "worker"), default="page", help="the dashboard's path")
    p.add_argument("--sample-only", action="store_true", help="one page run, processor shares only")
    p.add_argument("--app-root", type=Path, default=ROOT, help="the checkout whose app.py the server runs")
    args = p.parse_args()
    specs = args.backends or DEFAULT_BACKENDS
    clip = Path(args.clip).resolve()
    load_start = os.getloadavg()[0]
    rows, samples = [], []
    with tempfile.TemporaryDirectory(prefix="posebench-dash-vs-cli-") as tmp, contextlib.ExitStack() as stack:
        page_results = Path(tmp) / "page-results"
        page = server_pid = None
        if args.path == "page" or args.sample_only:
            if not CHROMIUM.exists():
                raise SystemExit(f"{CHROMIUM} is missing: bash scripts/install_chromium.sh")
            log = Path(tmp) / "streamlit.log"
            url, server_pid = stack.enter_context(
                streamlit_server(args.app_root.resolve(), clip, page_results, log)
            )
            page = RunPage(url, clip, specs, args.frames, args.warmup, args.rounds)
            stack.callback(page.close)

        def dashboard_fps(out: Path):
            if page is None:
                return worker_fps(str(clip), specs, args.frames, args.warmup, args.rounds, out)
            sampler = CpuSampler(server_pid)
            sampler.start()
            folder = page.run(page_results)
            samples.append(sampler.stop())
            return _saved(folder)

        if args.sample_only:
            fps, machine = dashboard_fps(Path(tmp))
            app = args.app_root.resolve()
            print(f"app {app}, clip {clip.name}, {args.frames} frames, {args.rounds} round(s)")
            for name, share in samples[0].items():
                print(f"  {name:18s} {share:6.1f} % of one core (click to results shown)")
            for label, foreign in machine.items():
                print(f"  other work         {foreign:6.1f} % of one core while {label} was timed")
            print("  fps: " + ", ".join(f"{k} {v:.2f}" for k, v in fps.items()))
            return 0

        for pair in range(1, args.pairs + 1):
            order = ["dashboard", "cli"] if pair % 2 else ["cli", "dashboard"]
            fps, machine = {}, {}
            for path in order:
                out = Path(tmp) / f"{path}-{pair}"
                out.mkdir()
                if path == "dashboard":
                    fps[path], machine[path] = dashboard_fps(out)
                else:
                    fps[path], machine[path] = cli_fps(
                        str(clip), specs, args.frames, args.warmup, args.rounds, out
                    )
                print(f"  pair {pair}: {path} done", file=sys.stderr)
            for label in fps["cli"]:
                rows.append(
                    {
                        "backend": label,
                        "pair": pair,
                        "order": " then ".join(order),
                        "dashboard_fps": fps["dashboard"][label],
                        "cli_fps": fps["cli"][label],
                        "ratio": fps["dashboard"][label] / fps["cli"][label],
                        "foreign_dash": machine["dashboard"][label],
                        "foreign_cli": machine["cli"][label],
                    }
                )
    table = pd.DataFrame(rows)
    print(
        f"clip {clip.name}, {args.frames} frames (first {args.warmup} untimed), {args.rounds} round(s) "
        f"per run (median), {args.pairs} pairs alternated, dashboard path: {args.path}; 1-minute load "
        f"average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end; {os.cpu_count()} cores"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("foreign_dash / foreign_cli: other work on the processor while each run timed (% of one core)")
    if samples:
        mean = pd.DataFrame(samples).mean()
        print(
            "while the page ran (click to results shown, mean of the pairs): "
            + ", ".join(f"{k.removesuffix('_cpu_pct')} {v:.1f} %" for k, v in mean.items())
            + " of one core"
        )
    ok = True
    print("\nratio = dashboard FPS / command-line FPS, median of the pairs (target 0.95-1.05):")
    for label, part in table.groupby("backend", sort=False):
        ratio = statistics.median(part["ratio"])
        passed = LOW <= ratio <= HIGH
        ok &= passed
        print(
            f"  {'PASS' if passed else 'MISS'}  {label:30s} {ratio:.3f}  "
            f"[{part['ratio'].min():.3f}-{part['ratio'].max():.3f}]  "
            f"other work {part['foreign_dash'].median():.0f} % (dashboard) / "
            f"{part['foreign_cli'].median():.0f} % (command line) of one core"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
