"""The dashboard's shared state: one accessor per key, and the model cache.

Every page reads and writes ``st.session_state`` through these functions, so
the keys other pages rely on live in one place:

- ``clip_path``: str path of the chosen clip
- ``clip_info``: ``posebench.io.video.ClipInfo`` of that clip
- ``current_run``: ``posebench.store.run_record.BenchmarkRun`` of the last finished (or opened) run
- ``baseline``: label of the baseline backend the user picked (default: the run's first
  MediaPipe one that ran)
- ``clip_upload``: ``posebench.io.uploads.AcceptedClip`` of this session's upload, kept until
  another clip replaces it; replaced uploads stay among the user's uploads (``own_uploads``,
  offered on every page that takes a clip) and are deleted once they have left that list and
  no run reads them
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Final

import streamlit as st

from posebench import backends
from posebench.access import run_access
from posebench.core.errors import BenchError
from posebench.dashboard import auth
from posebench.engine import selection
from posebench.io import video
from posebench.store import run_store

from . import job_registry

CLIP_PATH = "clip_path"
CLIP_INFO = "clip_info"
CURRENT_RUN = "current_run"
BASELINE = "baseline"
JOB = "run_job"  # dashboard.background_jobs.RunJob of the run in progress (or just finished)
EXPLORE_JOB = "explore_job"  # dashboard.background_jobs.BackgroundJob of the Explorer sweep
JUMP_JOB = "jump_job"  # dashboard.background_jobs.BackgroundJob of the Accuracy page's jump analysis
STUDY_JOB = "study_job"  # dashboard.background_jobs.BackgroundJob of the Study page's study
REALTIME_JOB = (
    "realtime_job"  # dashboard.background_jobs.RealtimeJob of the Live page's camera-rate measurement
)
JOB_KEYS = (JOB, EXPLORE_JOB, JUMP_JOB, STUDY_JOB, REALTIME_JOB)
# where each job is shown
JOB_PAGES = {
    JOB: "run",
    EXPLORE_JOB: "explorer",
    JUMP_JOB: "accuracy",
    STUDY_JOB: "study",
    REALTIME_JOB: "live",
}
COLLECTED = "collected-jobs"  # ids of the finished jobs this session has taken in
ADOPT_FINISHED_S = 120  # a new tab takes in a benchmark that finished this recently
URL_DONE = "url-restored"  # the link's clip and run were opened in this session
OPEN_STUDY = "open_study"  # study_id of the study the Study page shows
EXPLORER_RESULT = "explorer-result"  # {"table": DataFrame, "meta": dict, "clip": path}
JUMP_RESULT = "jump-result"  # (run id, jump table) of the last jump analysis
HISTORY = "run_history"  # earlier runs of this browser session, newest first
HISTORY_LIMIT = 5  # runs kept in memory per session (saved runs stay on disk)
UPLOAD = "clip_upload"  # posebench.io.uploads.AcceptedClip uploaded in this session
RETIRED = "retired_uploads"  # replaced uploads still read by a run; deleted when it no longer is


@st.cache_resource(show_spinner=False)
def model_cache() -> backends.ModelCache:
    """Stateless model sessions shared by every browser session of this server."""
    return backends.ModelCache()


# -- clip -------------------------------------------------------------------------
def clip_path() -> str | None:
    return st.session_state.get(CLIP_PATH)


def clip_info() -> video.ClipInfo | None:
    """The chosen clip's description; probed once when only the path was set."""
    path = clip_path()
    if not path:
        return None
    info = st.session_state.get(CLIP_INFO)
    if info is None or info.path != str(path):
        info = video.probe(path)
        st.session_state[CLIP_INFO] = info
    return info


def set_clip(path: str | Path) -> video.ClipInfo:
    """Choose a clip; raises ``InputError`` (one sentence) when it is not a usable video.

    An upload chosen before is let go (deleted once no run reads it).
    """
    info = video.probe(path)
    st.session_state[CLIP_PATH] = str(path)
    st.session_state[CLIP_INFO] = info
    _retire(st.session_state.pop(UPLOAD, None))
    return info


def upload():
    """This session's accepted upload (``posebench.io.uploads.AcceptedClip``), or None."""
    return st.session_state.get(UPLOAD)


def chosen_upload():
    """The accepted upload when it is the chosen clip, else None."""
    clip = upload()
    return clip if clip is not None and str(clip.path) == clip_path() else None


def set_upload(clip) -> None:
    """Choose an accepted upload as the clip; the upload it replaces is let go.

    The user's latest upload is also kept by the server (``job_registry``), so a reload or a
    link with its token reopens it.
    """
    previous = upload()
    dropped: list = []
    job_registry.registry().keep_upload(user_key(), clip, dropped)
    st.session_state[UPLOAD] = clip
    st.session_state[CLIP_PATH] = str(clip.path)
    st.session_state[CLIP_INFO] = clip.info
    if previous is not None and previous.path != clip.path and previous not in dropped:
        dropped.append(previous)
    _retire(*dropped)


def offer_upload(clip) -> None:
    """Keep an accepted upload among the user's uploads without choosing it (an upload on the
    Study page): every page that takes a clip offers it (``own_uploads``)."""
    dropped: list = []
    job_registry.registry().keep_upload(user_key(), clip, dropped)
    _retire(*dropped)


def own_uploads() -> list:
    """The user's uploads still on disk, newest first, from whichever page (Clip, Study, Live):
    this session's own first. Never another user's (``job_registry`` keeps each user's)."""
    found = [c for c in (upload(),) if c is not None and Path(c.path).exists()]
    shas = {getattr(c.info, "sha256", "") or str(c.path) for c in found}
    for clip in job_registry.registry().uploads(user_key()):
        sha = getattr(clip.info, "sha256", "") or str(clip.path)
        if sha not in shas:
            shas.add(sha)
            found.append(clip)
    return found


def make_room_for_upload(size: int | None) -> None:
    """Stop offering the user's oldest kept uploads while a new upload of ``size`` bytes would
    pass their share of the upload storage (a new upload comes first): each file goes once no
    tab has it chosen and no run reads it (``clip_input.save_upload``'s finaliser). The chosen
    clip stays, and clips kept in a study are the study's."""
    from posebench.dashboard import clip_input

    if not isinstance(size, int):
        return
    owner, offered = user_key(), job_registry.registry()
    folder = clip_input.upload_dir().resolve()
    for clip in reversed(offered.uploads(owner)):  # the oldest first
        if clip_input.user_usage(auth.viewer().name) + size <= clip_input.user_cap_bytes():
            return
        if clip is not upload() and Path(clip.path).resolve().parent == folder:
            offered.forget_upload(owner, clip)


def choose_own_upload(path: str) -> bool:
    """Choose the user's upload at ``path`` (one of ``own_uploads``) as the clip; False when
    ``path`` is none of them."""
    clip = next((c for c in own_uploads() if str(c.path) == str(path)), None)
    if clip is None:
        return False
    set_upload(clip)
    return True


def _retire(*clips) -> None:
    already = st.session_state.get(RETIRED, [])
    kept = [c for c in clips if c is not None and not any(c is r for r in already)]
    if kept:
        st.session_state[RETIRED] = [*st.session_state.get(RETIRED, []), *kept]
    release_retired()


def release_retired() -> None:
    """Delete replaced uploads that neither the running job nor the current run reads, nor
    the user's kept uploads hold (``job_registry.KEEP_UPLOADS``: offered on every page).

    The current run keeps its clip so Compare can still draw its frames.
    """
    run = current_run()
    in_use = {str(j.clip_path) for j in running_jobs() if j.clip_path}
    if run is not None:
        in_use.add(str(run.clip.path))
    kept = []
    offered = job_registry.registry()
    for clip in st.session_state.get(RETIRED, []):
        if offered.holds(user_key(), clip):
            continue  # still one of the user's uploads: its file stays, offered on every page
        if str(clip.path) in in_use:
            kept.append(clip)
        else:
            clip.cleanup()
    st.session_state[RETIRED] = kept


def readable_clip_path(clip) -> str:
    """The path of a run's clip that this session may read, or "" when there is none.

    The user's own uploads are found by their SHA-256 (an imported run has no path at all).
    Otherwise, on a shared server only the server's public clips (the bundled sample and
    the clip folders) are read: never another user's upload, nor a path a run names.
    """
    sha = getattr(clip, "sha256", "")
    for own in own_uploads() if sha else ():
        if getattr(own.info, "sha256", "") == sha and Path(own.path).is_file():
            return str(own.path)
    path = str(clip.path or "")
    if not path or not Path(path).is_file():
        return ""
    if not auth.shared_mode():
        return path
    from posebench.dashboard import clip_input

    public = {str(Path(p).resolve()) for p, _label in clip_input.available_clips()[0]}
    return path if str(Path(path).resolve()) in public else ""


def clip_here(run) -> bool:
    """True when the run's clip can be read by this session (frames can be drawn)."""
    return bool(run.clip.path) and Path(run.clip.path).is_file()


# -- runs -------------------------------------------------------------------------
def current_run():
    return st.session_state.get(CURRENT_RUN)


def set_current_run(run) -> None:
    """Make ``run`` the current one; the previous one moves to the session's history."""
    previous = st.session_state.get(CURRENT_RUN)
    if previous is not None and previous.run_id != run.run_id:
        kept = [r for r in history() if r.run_id not in (run.run_id, previous.run_id)]
        st.session_state[HISTORY] = [previous, *kept][:HISTORY_LIMIT]
    st.session_state[CURRENT_RUN] = run
    release_retired()


def history() -> list:
    """Earlier runs of this session (not the current one), newest first."""
    return list(st.session_state.get(HISTORY, []))


def baseline(run=None) -> str | None:
    """The baseline label for ``run``: the one chosen if the run has it, else the default
    (``engine.selection.default_baseline``)."""
    run = run if run is not None else current_run()
    if run is None or not len(run.summary):
        return st.session_state.get(BASELINE)
    return selection.default_baseline(run.summary, st.session_state.get(BASELINE))


def set_baseline(label: str) -> None:
    st.session_state[BASELINE] = label


# Widgets whose choices should survive a change of page pass this to Streamlit.
KEEP: Final = "session"


# -- the run in progress ------------------------------------------------------------
def user_key() -> str:
    """Who this tab belongs to: the signed-in user, or "local" in single-user mode."""
    return str(auth.current_name() or "")


def job():
    return st.session_state.get(JOB)


def set_job(new_job) -> None:
    set_job_of(JOB, new_job)


def job_of(key: str):
    """The job kept under ``key`` (one of ``JOB_KEYS``), running or finished."""
    return st.session_state.get(key)


def set_job_of(key: str, new_job) -> None:
    """Keep the job in this tab and in the user's registry, so every tab of the user sees it."""
    st.session_state[key] = new_job
    job_registry.registry().add(user_key(), key, new_job)


def user_jobs() -> list:
    """The user's jobs from every tab (``job_registry.Entry``: key, job), oldest first."""
    return job_registry.registry().jobs(user_key())


def adopt_user_jobs() -> None:
    """A job of this user that runs in another tab (or ran before a reload) shows here too.

    A tab with no run of its own also takes in the user's latest finished benchmark, so a
    reload just after a run comes back to that run.
    """
    entries = job_registry.registry().jobs(user_key())
    for entry in entries:
        mine = st.session_state.get(entry.key)
        if not entry.job.finished and (mine is None or mine.finished):
            st.session_state[entry.key] = entry.job
    finished = [
        e
        for e in entries
        if e.key == JOB
        and e.job.finished
        and getattr(e.job, "run", None) is not None
        and time.time() - (e.job.ended_at or 0) < ADOPT_FINISHED_S
    ]
    if finished and current_run() is None and job() is None:
        st.session_state[JOB] = finished[-1].job


def take_finished_job(entry) -> None:
    """Bring a finished job of another tab into this one, so its page shows its result."""
    st.session_state[entry.key] = entry.job
    st.session_state.get(COLLECTED, set()).discard(id(entry.job))


def is_collected(a_job) -> bool:
    """Whether this session has taken the finished job's result in (each tab does so once)."""
    return id(a_job) in st.session_state.get(COLLECTED, set())


def mark_collected(a_job) -> None:
    st.session_state.setdefault(COLLECTED, set()).add(id(a_job))


def open_saved_run(run_id: str):
    """Make the saved run ``run_id`` the current one, if this user may see it; ``InputError``
    (one sentence) when not."""
    run = run_access.open_run(auth.viewer(), run_id)
    run.clip = replace(run.clip, path=readable_clip_path(run.clip))  # never another user's upload
    set_current_run(run)
    return run


# -- the address bar: clip and run, so a reload or a shared link reopens them --------------
def _clip_by_name(name: str) -> str | None:
    from .clip_input import available_clips  # clip_input imports nothing of state

    for path, _label in available_clips()[0]:
        if path.name == name:
            return str(path)
    return None


def restore_from_url() -> str | None:
    """Once per session: open the clip and run the address names; one sentence if one cannot be."""
    if st.session_state.get(URL_DONE):
        return None
    st.session_state[URL_DONE] = True
    params = st.query_params
    problems = []
    clip = params.get("clip")
    if clip and not clip_path():
        try:
            if clip.startswith("upload:"):
                kept = job_registry.registry().upload(user_key(), clip.partition(":")[2])
                if kept is None:
                    raise BenchError(
                        "the uploaded clip of that link is no longer on the server; upload it again"
                    )
                set_upload(kept)
            else:
                path = _clip_by_name(clip)
                if path is None:
                    raise BenchError(f"the clip {clip} is not offered on this server")
                set_clip(path)
        except BenchError as exc:
            problems.append(str(exc))
    run_id = params.get("run")
    if run_id and (current_run() is None or current_run().run_id != run_id):
        try:
            open_saved_run(run_id)
        except BenchError as exc:
            problems.append(str(exc))
    if problems:
        return "The link could not reopen everything: " + "; ".join(problems) + "."
    return None


def write_url() -> None:
    """Put the chosen clip and the current run in the address bar (only what changed)."""
    wanted = {}
    path = clip_path()
    if path:
        chosen = chosen_upload()
        token = job_registry.registry().upload_token(user_key(), chosen) if chosen is not None else None
        if chosen is None:
            wanted["clip"] = Path(path).name
        elif token:
            wanted["clip"] = f"upload:{token}"
    run = current_run()
    if run is not None and run_store.RUN_ID.match(run.run_id):
        wanted["run"] = run.run_id
    params = st.query_params
    for key in ("clip", "run"):
        if key in wanted and params.get(key) != wanted[key]:
            params[key] = wanted[key]
        elif key not in wanted and key in params:
            del params[key]


def running_jobs() -> list:
    """This session's jobs still running (a benchmark, the Explorer sweep, a jump analysis)."""
    return [j for j in (st.session_state.get(k) for k in JOB_KEYS) if j is not None and not j.finished]


def busy_reason() -> str | None:
    """Why a heavy job cannot start now (one sentence), or None when none of this session runs."""
    running = [(k, st.session_state.get(k)) for k in JOB_KEYS]
    running = [(k, j) for k, j in running if j is not None and not j.finished]
    if not running:
        return None
    key, first = running[0]
    what = getattr(first, "what", None) or ("a benchmark" if key == JOB else "a job")
    return (
        f"{what[:1].upper()}{what[1:]} of this session is running: wait for it, so the two "
        "do not share the CPU."
    )


def collect_finished_job() -> None:
    """Take each finished background job's result into the session (once).

    A benchmark becomes the current run; an Explorer sweep the Explorer's result for its
    clip; a jump analysis the jump result of its run (already saved beside the run).
    """
    running = job()
    if running is not None and running.finished and not is_collected(running):
        mark_collected(running)
        if running.run is not None:
            set_current_run(running.run)
        else:
            release_retired()
    sweep = job_of(EXPLORE_JOB)
    if sweep is not None and sweep.finished and not is_collected(sweep):
        mark_collected(sweep)
        if sweep.result is not None:
            st.session_state[EXPLORER_RESULT] = {
                "table": sweep.result,
                "meta": dict(sweep.result.attrs),
                "clip": sweep.clip_path,
            }
        release_retired()
    jumping = job_of(JUMP_JOB)
    if jumping is not None and jumping.finished and not is_collected(jumping):
        mark_collected(jumping)
        if jumping.result is not None:
            st.session_state[JUMP_RESULT] = (jumping.info["run_id"], jumping.result)
        release_retired()
    camera = job_of(REALTIME_JOB)
    if camera is not None and camera.finished and not is_collected(camera):
        mark_collected(camera)
        if camera.run is not None:  # saved with its realtime.csv: the Results page shows it too
            set_current_run(camera.run)
        release_retired()
    studying = job_of(STUDY_JOB)
    if studying is not None and studying.finished and not is_collected(studying):
        mark_collected(studying)
        st.session_state[OPEN_STUDY] = studying.info["study_id"]
