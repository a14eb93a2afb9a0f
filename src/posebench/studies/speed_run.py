"""A study's speed evidence measured on demand: a dedicated run with rounds, then used.

A study's own timings (one pass per clip, any load) never decide its verdict; a dedicated
speed measurement does (``decision.speed_evidence``). When none was chosen, one can be taken there
and then: ``measure(study)`` runs every backend of the study on one of its clips in
interleaved rounds (``engine.runner.run_benchmark``, the same runner and options as a study
job, with the study's warm-up), saves it as an ordinary run folder (listed on the Results
page, importable elsewhere) and returns that folder. ``use(study_id, folder)`` makes it the
study's headline speed source and writes the study's ``verdict.json`` again; nothing else of
the study is run again.

The command line's ``posebench study ... --speed measure`` and the Study page's "Measure the
speed now" button (a ``dashboard.background_jobs.RunJob``: the run is timed in a worker process, never
in the web server) both end here. A measurement taken while the machine is busy is saved
and used like any other, and the verdict says it is not reliable (never a reason to keep
or replace).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from posebench import backends
from posebench.core.errors import InputError
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.store import run_store
from posebench.store.run_record import RunOptions
from posebench.studies import study_folder

MEASURE = "measure"  # ``--speed measure``: measure the study's speed now
DEFAULT_ROUNDS = 5
SOURCE = "study-speed"  # run.json's source: a study's dedicated speed measurement


def readable_clips(study) -> list:
    """The study's clips that are on this machine (a speed run needs the bytes)."""
    return [c for c in study.clips if c.sha256 and c.path and Path(c.path).is_file()]


def pick_clip(study, name: str | None = None):
    """The clip to time: ``name`` (as the study names it, or its file name), else the study's
    longest readable clip (more frames per pass, a steadier figure)."""
    clips = readable_clips(study)
    if not clips:
        raise InputError("none of the study's clips is on this machine, so its speed cannot be measured here")
    if name:
        for clip in clips:
            if name in (clip.name, Path(clip.path).name):
                return clip
        raise InputError(f"the study has no readable clip named {name}")
    return max(clips, key=lambda c: video.probe(c.path).frames)


def options_for(study, clip, rounds: int = DEFAULT_ROUNDS, frames: int | None = None) -> RunOptions:
    """The speed run's options: the study jobs' warm-up and downscale, ``rounds`` rounds, and
    at least half of each pass timed (a short clip keeps a shorter warm-up)."""
    processed = min(int(frames), video.probe(clip.path).frames) if frames else video.probe(clip.path).frames
    warmup = min(int(study.options.get("warmup", 10) or 0), max(0, processed // 2))
    options = RunOptions(
        max_frames=int(frames) if frames else None,
        warmup=warmup,
        max_side=study.options.get("max_side"),
        rounds=int(rounds),
    )
    options.check()
    return options


def configs_of(study) -> list[backends.BackendConfig]:
    return [backends.parse(spec) for spec in study.backends]


def measure(
    study,
    *,
    rounds: int = DEFAULT_ROUNDS,
    clip_name: str | None = None,
    frames: int | None = None,
    results_root: Path | None = None,
    progress: Callable | None = None,
) -> Path:
    """Time every backend of the study on one of its clips in ``rounds`` interleaved rounds,
    here and now; save the run (``results_root``, default the results folder) and return its
    folder. The run records the machine's load, as every run does."""
    clip = pick_clip(study, clip_name)
    options = options_for(study, clip, rounds, frames)
    run = run_benchmark(clip.path, configs_of(study), options, progress=progress, source=SOURCE)
    run.extra["speed_for_study"] = study.study_id
    return run_store.save(run, results_root)


def use(study_id: str, folder: str | Path, root: Path | None = None):
    """Make the run ``folder`` the study's headline speed source (first of its speed runs) and
    write its tables and verdict again from the rows it has (nothing is run)."""
    study = study_folder.load(study_id, root)
    folder = str(Path(folder).resolve())
    study.speed_runs = [folder, *[r for r in study.speed_runs if r != folder]]
    study_folder.save_definition(study, root)
    cache = study_folder.cached_rows(study_folder.folder_of(study_id, root))
    rows = [cache[j.key] for j in study.jobs() if j.key in cache]
    return study_folder.tables(study, rows, study_folder.folder_of(study_id, root), write=True)


__all__ = ["DEFAULT_ROUNDS", "MEASURE", "SOURCE", "measure", "options_for", "pick_clip", "use"]
