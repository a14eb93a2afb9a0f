"""Where study jobs run: here, one after another, or on a Ray cluster.

A study job is one clip x one backend (``posebench.studies.study_jobs.StudyJob``:
``clip_path``, ``clip_sha256``, ``backend`` spec string, ``options``) and
``run_study_job(job) -> dict`` turns it into one study-table row. An executor
runs a list of jobs and hands the rows back::

    executor = executor_for(args.ray)                # LocalExecutor or RayExecutor
    try:
        rows = executor.run(jobs, on_result, cancel_event)
    finally:
        executor.close()

- ``on_result(index, row)`` is called in the calling thread as each job finishes
  (in the order they finish, not the order of ``jobs``); ``index`` is the job's
  position in ``jobs``. Use it for progress ("4 of 12 jobs done") and to save each
  row as it arrives.
- ``cancel_event`` (a ``threading.Event``): once set, no new job starts and the
  outstanding Ray tasks are cancelled (``ray.cancel``); ``run`` then returns.
- ``run`` returns the rows of the finished jobs in the order of ``jobs``; after a
  cancel the unfinished jobs are simply missing. Every job is in it at most once:
  a Ray job whose worker dies is run again (``max_retries``), and a job that
  fails on every try becomes one row with ``status`` failed and the reason.
- Every row gets the columns of ``posebench.studies.hosts.HOST_COLUMNS`` (host, CPU,
  cores, provider, engine, cores reserved, executor, job seconds).

``LocalExecutor`` needs nothing extra. ``RayExecutor`` needs ``pip install
posebench[ray]``; see docs/scale.md for clusters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from posebench import backends
from posebench.core.errors import BenchError, ModelUnavailable
from posebench.models import model_store
from posebench.studies import hosts, study_jobs

JobFn = Callable[..., dict]  # run_study_job(job) or run_study_job(job, cancel=event)
OnResult = Callable[[int, dict], None]
RAY_SETTING = "POSEBENCH_RAY_ADDRESS"  # the dashboard's (and CLI's) configured cluster
POLL_S = 0.2  # how often a waiting Ray executor looks at the cancel switch
_SESSION = {"users": 0, "owned": False}  # this process's Ray session: executors in it, started by us
_SESSION_LOCK = threading.Lock()


def failure_row(job, reason: str) -> dict:
    """The row of a job that could not run at all (a study job itself never raises for bad input)."""
    # The clip is named by its path: the study maps it to the clip's name in the study even
    # when there is no SHA-256 to go by (a clip that is not there).
    if isinstance(job, study_jobs.StudyJob):
        return {**study_jobs.failed_row(job, reason), "clip": str(job.clip_path)}
    return {
        "clip": str(job.clip_path),
        "sha256": job.clip_sha256,
        "backend": job.backend,
        "status": "failed",
        "error": reason,
    }


def _call(job_fn: JobFn, job, cancel: threading.Event | None) -> dict:
    """``job_fn(job, cancel)`` when it takes a cancel switch (run_study_job does), else ``job_fn(job)``."""
    try:
        takes_cancel = "cancel" in inspect.signature(job_fn).parameters
    except (TypeError, ValueError):
        takes_cancel = False
    return dict(job_fn(job, cancel=cancel) if takes_cancel else job_fn(job))


# -- what runs on the worker ---------------------------------------------------------
def prepare_models(spec: str) -> dict[str, str]:
    """Fetch (if needed) and verify the backend's model files through the model store.

    Returns {model name: path}; a model that cannot be had is left for the job to report.
    """
    config = backends.parse(spec)
    paths = {}
    for name in backends.model_names(config):
        try:
            paths[name] = str(model_store.resolve(name, fetch=True))
        except ModelUnavailable:
            pass
    return paths


def local_clip(job, shipped: list) -> Path:
    """The path the job should read its clip from on this machine.

    Nothing shipped (one machine, or a shared file system): the clip's own path, which
    must be there (the job itself checks its SHA-256). Shipped (``shipped`` holds one
    Ray object ref): the clip's own path when it is here with the right SHA-256, else a
    copy of the shipped bytes kept in the cache under their SHA-256 and the clip's file
    name (rows name clips by file name).
    """
    path = Path(job.clip_path)
    if not shipped:
        if not path.is_file():
            raise BenchError(f"the clip {path.name} is not on this machine ({socket.gethostname()})")
        return path
    if path.is_file() and model_store.sha256_of(path) == job.clip_sha256:
        return path
    copy = model_store.cache_root() / "clips" / job.clip_sha256 / path.name
    if not (copy.is_file() and model_store.sha256_of(copy) == job.clip_sha256):
        import ray

        data = ray.get(shipped[0])
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, copy)
        if model_store.sha256_of(copy) != job.clip_sha256:
            raise BenchError(f"the copy of {path.name} on {socket.gethostname()} has the wrong SHA-256")
    return copy


def run_on_host(
    job,
    job_fn: JobFn,
    *,
    executor: str,
    cpus: float,
    gpus: float,
    shipped: Sequence = (),
    cancel: threading.Event | None = None,
) -> dict:
    """Run one job here: clip and models made ready, the job timed, the host recorded."""
    start = time.perf_counter()
    try:
        clip = local_clip(job, list(shipped))
    except BenchError as exc:
        row = failure_row(job, str(exc))
    else:
        here = dataclasses.replace(job, clip_path=str(clip)) if str(clip) != str(job.clip_path) else job
        prepare_models(job.backend)
        row = _call(job_fn, here, cancel)
    if not row.get("job_seconds", float("nan")) >= 0:  # the job's own time, else the executor's
        row["job_seconds"] = time.perf_counter() - start
    record = hosts.host_record(job.backend)
    for column in ("host", "provider", "engine"):  # the job's own words win where it has them
        if row.get(column) not in (None, "") and row.get(column) == row.get(column):
            record.pop(column)
    row.update(record)
    row.update(job_cpus=cpus, job_gpus=gpus, executor=executor)
    return row


def _ray_task(job, job_fn: JobFn, cpus: float, gpus: float, shipped: list) -> dict:
    return run_on_host(job, job_fn, executor="ray", cpus=cpus, gpus=gpus, shipped=shipped)


# -- executors -----------------------------------------------------------------------
class LocalExecutor:
    """One job after another in this process: no extra service, nothing to install."""

    name = "local"

    def __init__(self, job_fn: JobFn | None = None):
        self.job_fn = job_fn

    def run(
        self,
        jobs: Sequence[Any],
        on_result: OnResult | None = None,
        cancel_event: threading.Event | None = None,
    ) -> list[dict]:
        job_fn = self.job_fn or study_jobs.run_study_job
        rows: list[dict] = []
        for index, job in enumerate(jobs):
            if cancel_event is not None and cancel_event.is_set():
                break
            row = run_on_host(job, job_fn, executor=self.name, cpus=0, gpus=0, cancel=cancel_event)
            if row.get("status") == "cancelled":  # stopped mid-job: not a result
                break
            rows.append(row)
            if on_result is not None:
                on_result(index, row)
        return rows

    def describe(self) -> str:
        return "here, one job after another"

    def close(self) -> None:
        pass


def init_ray(attempts: int = 3, **options) -> None:
    """``ray.init(**options)``, tried again when a local instance does not come up in time.

    Ray gives a new local node 30 s to register; on a machine under heavy load it sometimes
    needs longer, and a second try (after cleaning up the first) then succeeds. A local
    instance runs its workers at the normal priority (Ray's default niceness of 15 makes a
    job on a busy machine take twice as long as the same job run here directly).
    """
    ray = _ray()
    starts_local = options.get("address") in (None, "local") and not os.environ.get("RAY_ADDRESS")
    if starts_local:  # Ray nices its workers to 15; a job here should get the CPU a local one gets
        options["_system_config"] = {"worker_niceness": 0, **options.get("_system_config", {})}
        options.setdefault("_node_ip_address", LOOPBACK)
        options.setdefault("include_dashboard", False)
    for attempt in range(1, attempts + 1):
        try:
            with _loopback_only(starts_local):
                ray.init(**options)
            return
        except Exception as exc:
            if "timed out during startup" not in str(exc) or attempt == attempts:
                raise
            ray.shutdown()


LOOPBACK = "127.0.0.1"
_CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # Ray's own: off = a single-machine node


@contextlib.contextmanager
def _loopback_only(local: bool):
    """While a local Ray instance starts: every server of it listens on loopback only.

    Ray 2.60 binds its servers (GCS, raylet, object manager, workers, agents) to the node's
    address instead of all interfaces (ray-project/ray#59852), but it turns a loopback node
    address into the machine's network address (``resolve_ip_for_localhost``) unless
    multi-machine clusters are off, which is Ray's setting for Windows and macOS
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``). It is turned off here for the processes this
    start launches (they inherit it), and put back after, so this process may still join a
    cluster later. ``tests/test_ray_loopback.py`` lists every listening socket of the instance.
    """
    if not local:
        yield
        return
    from ray._private import ray_constants

    before_env, before_flag = os.environ.get(_CLUSTER_SWITCH), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_CLUSTER_SWITCH] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before_flag
        if before_env is None:
            os.environ.pop(_CLUSTER_SWITCH, None)
        else:
            os.environ[_CLUSTER_SWITCH] = before_env


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise BenchError(
            "running a study on Ray needs the ray package: pip install 'posebench[ray]'"
        ) from exc
    return ray


class RayExecutor:
    """Each job is a Ray task that reserves its cores (and a GPU when its provider is one).

    ``address``: a running cluster (``HEAD:6379``, ``ray://HEAD:10001`` or ``auto``);
    None connects to ``RAY_ADDRESS`` when set, else starts a local instance (shut down
    again by ``close``). A Ray session this process already started (``ray.init``) is used
    as it is. ``cpus_per_job``: cores each job reserves; by default the backend's ONNX
    Runtime thread count (``intra_threads``) or 1. ``ship_clips``: put each clip's bytes in
    the object store for workers that do not have the file (``auto``: when the cluster
    has more than one node).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        job_fn: JobFn | None = None,
        cpus_per_job: float | None = None,
        max_retries: int = 3,
        ship_clips: bool | str = "auto",
        init_options: dict | None = None,
    ):
        self.address = address or None
        self.job_fn = job_fn
        self.cpus_per_job = cpus_per_job
        self.max_retries = max_retries
        self.ship_clips = ship_clips
        self.init_options = init_options or {}
        self._joined = False
        self._remote: Any = None

    # connection ------------------------------------------------------------------
    def connect(self):
        """Join (or start) this process's Ray session; ``close`` leaves it again."""
        ray = _ray()
        with _SESSION_LOCK:
            if not ray.is_initialized():
                options = dict(
                    address=self.address,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                    configure_logging=True,
                )
                options.update(self.init_options)
                try:
                    init_ray(**options)
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    where = self.address or os.environ.get("RAY_ADDRESS") or "a local instance"
                    raise BenchError(f"could not reach the Ray cluster at {where}: {exc}") from exc
                _SESSION["owned"] = True
            if not self._joined:
                _SESSION["users"] += 1
                self._joined = True
        if self._remote is None:
            self._remote = ray.remote(_ray_task)
        return ray

    def close(self) -> None:
        """Leave the Ray session; the last executor to leave one that PoseBench started shuts it
        down (a cluster joined, or a session the caller started, keeps running). Studies running
        at once in one process (two dashboard users) share the session safely."""
        with _SESSION_LOCK:
            if not self._joined:
                return
            self._joined = False
            self._remote = None
            _SESSION["users"] -= 1
            if _SESSION["users"] == 0 and _SESSION["owned"]:
                _SESSION["owned"] = False
                _ray().shutdown()

    def describe(self) -> str:
        """What the jobs run on (connects to the cluster)."""
        ray = self.connect()
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        cpus = ray.cluster_resources().get("CPU", 0)
        gpus = ray.cluster_resources().get("GPU", 0)
        return f"Ray cluster: {len(nodes)} node(s), {cpus:g} CPU(s), {gpus:g} GPU(s)"

    def resources(self, job) -> tuple[float, float]:
        """(CPU cores, GPUs) a job reserves."""
        config = backends.parse(job.backend)
        gpus = 1.0 if hosts.runs_on_gpu(job.backend) else 0.0
        if self.cpus_per_job is not None:
            return float(self.cpus_per_job), gpus
        threads = backends.family_of(config).threads(config.levers)
        return float(max(1, threads)), gpus

    def _should_ship(self, ray) -> bool:
        if self.ship_clips == "auto":
            return len([n for n in ray.nodes() if n.get("Alive")]) > 1
        return bool(self.ship_clips)

    # running ---------------------------------------------------------------------
    def run(
        self,
        jobs: Sequence[Any],
        on_result: OnResult | None = None,
        cancel_event: threading.Event | None = None,
    ) -> list[dict]:
        ray = self.connect()
        job_fn = self.job_fn or study_jobs.run_study_job
        fn_ref = ray.put(job_fn)
        ship = self._should_ship(ray)
        clip_refs: dict[str, Any] = {}
        index_of: dict[Any, int] = {}
        for index, job in enumerate(jobs):
            if cancel_event is not None and cancel_event.is_set():
                break
            shipped = []
            if ship:
                if job.clip_sha256 not in clip_refs:
                    clip_refs[job.clip_sha256] = ray.put(Path(job.clip_path).read_bytes())
                shipped = [clip_refs[job.clip_sha256]]  # in a list: the worker fetches it only if needed
            cpus, gpus = self.resources(job)
            ref = self._remote.options(
                num_cpus=cpus,
                num_gpus=gpus,
                max_retries=self.max_retries,
                retry_exceptions=False,
                name=f"posebench-study-job-{index}",
            ).remote(job, fn_ref, cpus, gpus, shipped)
            index_of[ref] = index
        rows: dict[int, dict] = {}
        pending = list(index_of)
        try:
            while pending:
                if cancel_event is not None and cancel_event.is_set():
                    break
                ready, pending = ray.wait(pending, num_returns=1, timeout=POLL_S)
                for ref in ready:
                    index = index_of[ref]
                    rows[index] = self._row(ray, ref, jobs[index])
                    if on_result is not None:
                        on_result(index, rows[index])
        finally:
            for ref in pending:  # cancelled, or on_result raised: stop what is left
                ray.cancel(ref, force=True)
        return [rows[i] for i in sorted(rows)]

    def _row(self, ray, ref, job) -> dict:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the job raised: one row with the reason
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            reason = f"the job raised {type(cause).__name__}: {cause}"
        except ray.exceptions.RayError as exc:  # worker died on every try, node lost, ...
            reason = (
                f"its Ray worker was lost {self.max_retries + 1} times ({type(exc).__name__}); "
                "the job was not finished"
            )
        where = dict.fromkeys(("host", "host_cpu", "host_cores"), "")  # no worker finished it
        return {**failure_row(job, reason.splitlines()[0]), **where, "executor": self.name}


def executor_for(ray_address: str | None = None, environ=os.environ) -> LocalExecutor | RayExecutor:
    """The executor a study asked for.

    ``ray_address``: the CLI's ``--ray [ADDRESS]`` (None when not given, "" when given
    without an address). Without it, ``POSEBENCH_RAY_ADDRESS`` (the dashboard's setting;
    ``local`` starts a local Ray instance) and then ``RAY_ADDRESS`` choose Ray; otherwise
    the jobs run here.
    """
    if ray_address is not None:
        return RayExecutor(ray_address or None)
    setting = environ.get(RAY_SETTING, "").strip()
    if setting:
        return RayExecutor(None if setting == "local" else setting)
    if environ.get("RAY_ADDRESS", "").strip():
        return RayExecutor(None)
    return LocalExecutor()


def where_jobs_run(environ=os.environ) -> str:
    """One sentence for pages and the CLI: where a study's jobs will run (nothing is contacted)."""
    chosen = executor_for(None, environ)
    if isinstance(chosen, LocalExecutor):
        return "Jobs run on this machine, one after another."
    if chosen.address:
        return f"Jobs run on the Ray cluster at {chosen.address} ({RAY_SETTING})."
    if environ.get(RAY_SETTING, "").strip() == "local":
        return f"Jobs run on a Ray instance started on this machine ({RAY_SETTING}=local)."
    return f"Jobs run on the Ray cluster at {environ.get('RAY_ADDRESS')} (RAY_ADDRESS)."
