"""Ray's overhead on a small study, and the cost model checked against it (docs/scale.md).

    python scripts/ray_cost_check.py [--full] [--backend mediapipe-lite] [--rounds 3] [CLIP ...]

Runs the same 3-clip study with the local executor and on a local Ray instance with 1 and
with 2 workers (``num_cpus``), each in a fresh process so every mode pays its own imports
and model loads. The clips: by default the test's short ones (the CMJ's last 100 frames at
360x640, the same mirrored, and the running clip); ``--full`` takes the shared running,
lab and CMJ clips whole. The Ray instance's start-up is reported apart: a cluster is
started once and serves many studies. Modes take turns within each round, so a change in
machine load hits all of them; the medians over rounds are compared. Prints the ratios
Ray / local (target: <= 1.3), each mode's time beyond its jobs (wall time minus the
schedule of the job times it recorded: imports, and what the executor itself adds) and
what the cost model predicts from the local run's job times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POSEBENCH_SHARED", ROOT.parent / "shared"))
DEFAULT_CLIPS = [
    SHARED / "clips" / "running_side_sports2d_demo3.mp4",
    SHARED / "clips" / "lab_single_person_60fps_pose2sim_cam01.mp4",
    SHARED / "clips" / "cmj_front_jumpmat_30fps.mp4",
]
MODES = {"local": None, "ray-1": 1, "ray-2": 2}


def short_clips(folder: Path) -> list[str]:
    """The executor test's clips: the CMJ's jump (last 100 frames, 360x640), mirrored, and the runner."""
    import cv2

    sys.path.insert(0, str(ROOT / "tests"))
    import clipgen
    from posebench.io import video

    frames = [f.image for f in video.iter_frames(DEFAULT_CLIPS[2], max_side=640)][230:]
    jump = clipgen.write_clip(folder / "cmj_jump.mp4", frames)
    mirrored = clipgen.write_clip(folder / "cmj_jump_mirrored.mp4", [cv2.flip(f, 1) for f in frames])
    return [str(jump), str(mirrored), str(DEFAULT_CLIPS[0])]


def one_mode(mode: str, clips: list[str], backend: str) -> dict:
    """Run the study once in this process with one executor; what the parent needs, as a dict.

    The wall time counts from before PoseBench is imported (a study from the command line
    pays its imports too), less the Ray instance's start-up: both executors pay their
    imports, and Ray's workers theirs on top.
    """
    t0 = time.perf_counter()
    from posebench.studies import study_executor
    from posebench.studies.study_jobs import StudyJob, clip_sha256

    jobs = [StudyJob(c, clip_sha256(c), backend) for c in clips]
    startup = 0.0
    if MODES[mode] is None:
        runner = study_executor.LocalExecutor()
    else:
        t_init = time.perf_counter()
        study_executor.init_ray(num_cpus=MODES[mode], include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - t_init
        runner = study_executor.RayExecutor()
    rows = runner.run(jobs)
    wall = time.perf_counter() - t0 - startup
    runner.close()
    if MODES[mode] is not None:
        import ray

        ray.shutdown()
    return {
        "mode": mode,
        "wall_s": wall,
        "startup_s": startup,
        "job_seconds": [r["job_seconds"] for r in rows],
        "status": [r["status"] for r in rows],
        "landmarks": [r.get("landmarks_sha256") for r in rows],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="clips of the study (default: see --full)")
    parser.add_argument("--full", action="store_true", help="the shared running, lab and CMJ clips, whole")
    parser.add_argument("--backend", default="mediapipe-lite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--study-clips", type=int, default=500, help="clips of the study to predict")
    parser.add_argument("--mode", choices=list(MODES), help=argparse.SUPPRESS)  # one child run
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(one_mode(args.mode, args.clips, args.backend)))
        return 0

    from posebench.studies import cost

    if not args.clips:
        if args.full:
            args.clips = [str(c) for c in DEFAULT_CLIPS]
        else:
            args.clips = short_clips(Path(tempfile.mkdtemp(prefix="ray_cost_check_")))
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    for round_no in range(args.rounds):
        for mode in MODES:
            out = subprocess.run(
                [sys.executable, __file__, "--mode", mode, "--backend", args.backend, *args.clips],
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                print(f"round {round_no + 1} {mode}: failed; its last words:\n{out.stderr[-2000:]}")
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            runs[mode].append(result)
            print(
                f"round {round_no + 1} {mode:6s} wall {result['wall_s']:6.1f} s "
                f"(Ray start-up {result['startup_s']:4.1f} s apart)  jobs "
                + ", ".join(f"{s:.1f}" for s in result["job_seconds"]),
                flush=True,
            )
    runs = {m: r for m, r in runs.items() if r}
    if "local" not in runs:
        return 1
    wall = {m: statistics.median(r["wall_s"] for r in runs[m]) for m in runs}
    beyond = {
        m: statistics.median(r["wall_s"] - cost.schedule_s(r["job_seconds"], MODES[m] or 1) for r in runs[m])
        for m in runs
    }
    same = all(r["landmarks"] == runs["local"][0]["landmarks"] for m in runs for r in runs[m])
    local_jobs = [statistics.median(js) for js in zip(*(r["job_seconds"] for r in runs["local"]))]
    print()
    print(f"{len(args.clips)} clips x {args.backend}; medians of {args.rounds} round(s)")
    print(f"  landmarks identical in every mode and round: {same}")
    print(f"  local executor          {wall['local']:6.1f} s   beyond its jobs {beyond['local']:5.1f} s")
    for mode, workers in MODES.items():
        if workers is None or mode not in runs:
            continue
        predicted = cost.expected_wall_s(local_jobs, workers)
        overhead = cost.per_job_overhead_s(wall[mode], local_jobs, workers)
        print(
            f"  Ray, {workers} worker(s)         {wall[mode]:6.1f} s   ratio to local "
            f"{wall[mode] / wall['local']:.2f} (target <= 1.3)   model {predicted:5.1f} s, "
            f"fitted overhead {overhead:.1f} s/job   beyond its jobs {beyond[mode]:5.1f} s"
        )
    if "ray-1" not in runs:
        return 1
    overhead = cost.per_job_overhead_s(wall["ray-1"], local_jobs, 1)
    startup = statistics.median(r["startup_s"] for r in runs["ray-1"])
    warmup, warm_jobs = cost.split_warmup(local_jobs)
    jobs = args.study_clips
    print(
        f"\nPredicted wall time of a {jobs}-clip study x {args.backend} (clips like these, one per job; "
        f"warm job times {', '.join(f'{s:.1f}' for s in warm_jobs)} s, warm-up {warmup:.1f} s per worker, "
        f"overhead {overhead:.1f} s per job, Ray start-up {startup:.1f} s):"
    )
    for workers in (1, 2, 8, 32):
        seconds = cost.expected_wall_s(
            warm_jobs, workers, jobs=jobs, overhead_s=overhead, startup_s=startup, warmup_s=warmup
        )
        print(f"  {workers:3d} worker(s): {seconds / 60:7.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
