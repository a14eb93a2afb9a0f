"""What an estimator family is: its levers, presets, words and how to run it.

A family (MediaPipe Pose, RTMPose, ...) is one module holding one ``Family``
object, registered under the entry-point group ``posebench.families``
(``posebench.backends.family_registry``). Everything the rest of PoseBench needs to know
about a family is asked of that object: no other module names a family.

- ``levers``: a frozen dataclass, one field per setting, each made with ``lever()``
  so its help text, its choices, its bounds and its widget travel with it;
- ``presets``: named lever sets as data (``Preset``), with their help and words;
- ``why_unavailable``, ``model_names``, ``keypoint_set``, ``resolve`` (e.g.
  ``engine=auto``), ``create`` (the factory), ``host`` and ``threads`` (for studies),
  ``on_boxes`` (the accuracy check), ``title`` and ``words``.

See docs/extending.md for a family in one page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from posebench.core.keypoints import LANDMARKS

if TYPE_CHECKING:
    from .backend_config import BackendConfig
    from .base import PoseBackend
    from .sessions import ModelCache


@dataclass(frozen=True)
class Lever:
    """One setting of a family: what it means and which values it takes (data, not branches)."""

    help: str  # one line, with its unit: `posebench backends` prints it, the widget shows it
    label: str = ""  # the dashboard's widget label; "" = no widget
    kind: str = ""  # select | slider | number | toggle (the widget)
    limits: tuple = ()  # slider / number widget: (min, max, step)
    advanced: bool = False  # an engine setting: the dashboard shows it under "Advanced"
    choices: tuple = ()  # the only values allowed (checked when parsed; a select offers them)
    offer: Callable[[], tuple] | None = None  # the values a select offers, when found at run time
    bounds: tuple = ()  # (min, max) allowed, max None = no upper bound; checked when parsed
    unit: str = ""  # unit of the bounds, for the error message
    words: dict = field(default_factory=dict)  # value -> words, when changed from a preset

    def options(self) -> tuple:
        """The values a select widget offers."""
        return (self.offer() or self.choices) if self.offer is not None else self.choices


def lever(default: Any, help: str, **spec: Any) -> Any:
    """A levers-dataclass field with its ``Lever`` description (``help``, choices, widget, ...)."""
    return field(default=default, metadata={"lever": Lever(help=help, **spec)})


def lever_of(levers_type: type, name: str) -> Lever:
    """The ``Lever`` of a field of a levers dataclass (a bare field gets its name as help)."""
    for f in fields(levers_type):
        if f.name == name:
            return f.metadata.get("lever") or Lever(help=name)
    raise KeyError(name)


@dataclass(frozen=True)
class Preset:
    """A named lever set: ``name`` is what users type (``NAME:key=value``)."""

    name: str
    levers: Any  # an instance of the family's levers dataclass
    help: str  # the exact set-up, for engineers (`posebench backends`)
    words: str  # what it does, in a coach's words
    note: str = ""  # how it was chosen, where that needs saying (shown with its verdict)


class BoxEstimator:
    """A backend run on annotated person boxes (the accuracy check): by default the backend on
    the box enlarged by ``margin`` on each side, mapped back to the image."""

    def __init__(self, backend: PoseBackend, margin: float):
        self._backend = backend
        self._margin = margin
        self._ts = 0

    def predict(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(13, 3) x, y (image pixels), score of the landmarks on the box."""
        h, w = image.shape[:2]
        bw, bh = box[2] - box[0], box[3] - box[1]
        x1 = int(max(0, np.floor(box[0] - self._margin * bw)))
        y1 = int(max(0, np.floor(box[1] - self._margin * bh)))
        x2 = int(min(w, np.ceil(box[2] + self._margin * bw)))
        y2 = int(min(h, np.ceil(box[3] + self._margin * bh)))
        if x2 - x1 < 2 or y2 - y1 < 2:
            return np.full((len(LANDMARKS), 3), np.nan)
        crop = np.ascontiguousarray(image[y1:y2, x1:x2])
        self._ts += 1
        lm = self._backend.process(crop, self._ts).landmarks()
        lm[:, 0] += x1
        lm[:, 1] += y1
        return lm

    def close(self) -> None:
        self._backend.close()


class Family:
    """One estimator family. Subclass it, set the attributes, override what differs, and
    register one instance (entry point ``posebench.families``: ``name = "module:FAMILY"``)."""

    name: str = ""  # what `family` columns and run.json record, e.g. "rtmpose"
    label: str = ""  # its short name in sentences, e.g. "RTMPose"
    title: str = ""  # heading of its column on the Run page
    words: str = ""  # one sentence for a coach: what it is
    levers: type = object  # the frozen levers dataclass
    presets: tuple[Preset, ...] = ()
    packages: tuple[str, ...] = ()  # import names it needs
    model_fields: tuple[str, ...] = ()  # levers that name a model of posebench.core.catalogue

    # -- what it needs -----------------------------------------------------------------
    def why_unavailable(self, levers: Any) -> str | None:
        """A reason of the family's own (a delegate, an engine) that ``levers`` cannot run here,
        else None; packages and model files are checked before this."""
        return None

    def model_names(self, levers: Any) -> list[str]:
        """Catalogue names of the model files ``levers`` loads."""
        return [getattr(levers, name) for name in self.model_fields]

    def keypoint_set(self, levers: Any) -> str | None:
        """The native keypoint set (``posebench.core.keypoints``) ``levers`` yields."""
        return None

    # -- running -------------------------------------------------------------------------
    def resolve(self, config: BackendConfig) -> tuple[BackendConfig, dict | None]:
        """``config`` with choices made on this machine (e.g. ``engine=auto``) and the
        measurement behind them; unchanged and None when there is nothing to choose."""
        return config, None

    def needs_resolving(self, levers: Any) -> bool:
        """True when ``resolve`` has a choice to make for ``levers``."""
        return False

    def create(self, config: BackendConfig, cache: ModelCache | None) -> PoseBackend:
        """The backend for one run (the factory); availability was checked by the caller."""
        raise NotImplementedError

    def on_boxes(self, config: BackendConfig, cache: ModelCache | None, margin: float) -> BoxEstimator:
        """The backend on annotated person boxes (the accuracy check)."""
        return BoxEstimator(self.create(config, cache), margin)

    # -- tables and studies ------------------------------------------------------------------
    def settings(self, levers: Any) -> dict:
        """The settings that matter for ``levers`` (tables, run.json): all of them by default."""
        return {f.name: getattr(levers, f.name) for f in fields(levers)}

    def host(self, levers: Any) -> tuple[str, str]:
        """(provider, engine): where and on what runtime the models run (study rows)."""
        return f"{self.name} CPU", self.name

    def runs_on_gpu(self, levers: Any) -> bool:
        return False

    def threads(self, levers: Any) -> int:
        """CPU threads one model uses (0 = its default); a study job reserves that many cores."""
        return 0

    # -- words -------------------------------------------------------------------------------
    def describe_change(self, name: str, value: Any, base: Any) -> str | None:
        """Words for one setting changed from the preset ``base``; None = the lever's words, else
        ``name=value``; "" leaves it out (e.g. a choice made on this machine)."""
        return None

    def chosen_words(self, levers: Any, base: Any) -> str:
        """Words for settings chosen on this machine rather than by the user (e.g. the engine
        ``engine=auto`` picked), "; ..." appended to the preset's words; "" when none."""
        return ""

    def notes(self) -> list[str]:
        """Lines for `python -m posebench backends` about this machine (engines, delegates)."""
        return []
