"""A benchmark run as data: its options, its configurations and its tables (what the runner
fills in and the run store saves and loads)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from posebench.backends import BackendConfig
from posebench.core.errors import BenchError
from posebench.io import video

MAX_ROUNDS = 20
# Rounds the front ends (the CLI's --rounds, the Run page) time by default: the median of 3
# with its spread. ``RunOptions()`` itself times one round (studies and checks made in code).
DEFAULT_ROUNDS = 3


@dataclass
class RunOptions:
    max_frames: int | None = None  # frames of the clip to process (from the start)
    max_seconds: float | None = None  # or: seconds of the clip to process
    warmup: int = 10  # first frames left out of the speed figures
    stride: int = 1  # keep every n-th decoded frame
    max_side: int | None = None  # downscale so the longer side is at most this
    preload: bool = False  # model-only: decode all frames before timing
    background_decode: bool = False  # decode in a thread, overlapping inference
    rounds: int = 1  # timed rounds: each backend runs the frames this many times, interleaved

    def frame_cap(self, fps: float) -> int | None:
        """The frame cap ``max_frames`` and ``max_seconds`` give at ``fps``; None when neither is set."""
        caps = [
            c
            for c in (self.max_frames, max(1, round(self.max_seconds * fps)) if self.max_seconds else None)
            if c
        ]
        return min(caps) if caps else None

    def plan(self, clip: video.ClipInfo) -> FramePlan:
        """The frames these options make a run process of ``clip`` (worked out once, here)."""
        cap = self.frame_cap(clip.fps)
        prefix = min(cap, clip.frames) if cap else clip.frames
        width, height = video.scaled_size(clip.width, clip.height, self.max_side)
        words = []  # in words: the settings' names are for the CSVs and run.json
        if self.max_frames:
            words.append(f"at most {self.max_frames} frames")
        if self.max_seconds:
            words.append(f"at most {self.max_seconds:g} s")
        given = " and ".join(words)
        return FramePlan(
            clip=clip,
            frames=-(-prefix // max(1, self.stride)),
            cap=cap,
            cap_given=given,
            stride=self.stride,
            max_side=self.max_side,
            width=width,
            height=height,
        )

    def check(self) -> None:
        """Refuse settings that make no sense, in one sentence."""
        rules = (
            (self.max_frames is not None and self.max_frames < 1, "frames must be 1 or more"),
            (self.max_seconds is not None and not self.max_seconds > 0, "seconds must be more than 0"),
            (self.warmup < 0, "warm-up frames cannot be negative"),
            (self.stride < 1, "frame stride must be 1 or more"),
            (not 1 <= self.rounds <= MAX_ROUNDS, f"rounds must be between 1 and {MAX_ROUNDS}"),
            (
                self.max_side is not None and self.max_side < 32,
                "the downscale side must be at least 32 pixels",
            ),
        )
        for broken, sentence in rules:
            if broken:
                raise BenchError(sentence)


@dataclass(frozen=True)
class FramePlan:
    """What a run processes of a clip: how many frames, which, and at what size. One place
    for these facts (``RunOptions.plan``); the runner, its notices and the Run page read them."""

    clip: video.ClipInfo
    frames: int  # frames each backend processes per pass: every ``stride``-th of the capped start
    cap: int | None  # frames of the clip's start the caps allow (None: no cap)
    cap_given: str  # the options that set the cap, in words ("at most 20 frames")
    stride: int  # every ``stride``-th decoded frame is kept
    max_side: int | None  # the longer side the frames are downscaled to, if any
    width: int  # the frame size the models see (after downscaling)
    height: int

    @property
    def capped(self) -> bool:
        """Whether the caps leave part of the clip out."""
        return self.cap is not None and self.cap < self.clip.frames

    @property
    def downscaled(self) -> bool:
        return (self.width, self.height) != (self.clip.width, self.clip.height)

    @property
    def scale(self) -> np.ndarray:
        """(x, y) factors from the frames the models see back to the clip's pixels."""
        return np.array([self.clip.width / self.width, self.clip.height / self.height])

    @property
    def frame_bytes(self) -> int:
        """Memory the processed frames take when decoded all at once."""
        return self.frames * self.width * self.height * 3

    def cap_note(self) -> str:
        """How much of the clip a run covers, or "" when it covers all of it."""
        parts = []
        if self.capped:
            assert self.cap is not None
            clip = self.clip
            parts.append(
                f"capped to the first {self.cap} of {clip.frames} frames "
                f"({self.cap / clip.fps:.1f} of {clip.duration_s:.1f} s; set to {self.cap_given})"
            )
        if self.stride > 1:
            parts.append(f"1 frame in {self.stride} kept")
        return "; ".join(parts)

    def decode(self) -> Iterator[video.Frame]:
        """The planned frames, decoded one at a time."""
        return video.iter_frames(
            self.clip.path,
            max_frames=self.frames,
            stride=self.stride,
            max_side=self.max_side,
            fps=self.clip.fps,
        )


@dataclass
class BenchmarkRun:
    run_id: str
    clip: video.ClipInfo
    options: RunOptions
    configs: Sequence[BackendConfig | Contestant]
    frames: pd.DataFrame
    summary: pd.DataFrame
    native: dict[str, dict[str, np.ndarray]]  # backend -> {"keypoints", "scores"}
    environment: dict
    started: str
    finished: str = ""
    status: str = "complete"  # complete | cancelled | failed
    extra: dict = field(default_factory=dict)  # e.g. scorecard thresholds saved with the run
    timings: pd.DataFrame | None = None  # every round's per-frame times (not saved; see "rounds")

    @property
    def overlapped(self) -> int:
        """Other benchmark runs on this machine (any process) at the same time (the summary's one
        place for it, ``overlapped_runs``); 0 when the summary has none."""
        if not len(self.summary) or "overlapped_runs" not in self.summary.columns:
            return 0
        values = pd.to_numeric(self.summary["overlapped_runs"], errors="coerce").dropna()
        return int(values.max()) if len(values) else 0

    @overlapped.setter
    def overlapped(self, value: int) -> None:
        if len(self.summary):
            self.summary["overlapped_runs"] = int(value)

    def meta(self) -> dict:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "clip": self.clip.as_dict(),
            "options": asdict(self.options),
            "backends": [
                {
                    "label": c.display,
                    "spec": c.spec(),
                    "preset": c.preset,
                    "family": c.family,
                    "settings": c.settings(),
                }
                for c in self.configs
            ],
            "environment": self.environment,
            **self.extra,
        }


def new_run_id() -> str:
    """Sortable by time; 40 random bits make two ids alike in one second all but impossible."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:10]


@dataclass(frozen=True)
class Contestant:
    """A backend made by ``make()`` instead of from a preset (e.g. rtmlib's own object in the
    speed check); it runs in the rounds like any configuration."""

    label: str
    make: Callable[[], Any]  # an object with process(), close() and keypoint_set, like a PoseBackend
    family: str = ""  # the estimator family it belongs to (its `family` column)
    preset: str = ""
    fixed: dict = field(default_factory=dict)  # its settings, for the tables

    @property
    def display(self) -> str:
        return self.label

    def spec(self) -> str:
        return self.label

    def settings(self) -> dict:
        return dict(self.fixed)
