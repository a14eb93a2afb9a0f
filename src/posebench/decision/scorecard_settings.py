"""The scorecard settings saved with a run: baseline, candidate, thresholds, overrides.

A saved run keeps them in the sidecar ``scorecard.json`` beside its files
(``engine.sidecars``; the run's own files are never rewritten); a run not saved
(yet) keeps them in ``run.extra["scorecard"]``, which saving moves to the sidecar.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from posebench.decision.decision_rules import INPUTS, THRESHOLDS, default_thresholds
from posebench.decision.numbers import is_number
from posebench.store import sidecars


@dataclass
class Settings:
    baseline: str | None = None
    candidate: str | None = None
    thresholds: dict[str, float] = field(default_factory=default_thresholds)
    overrides: dict[str, dict[str, float]] = field(default_factory=dict)  # candidate -> key -> value

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Settings:
        data = data if isinstance(data, dict) else {}
        mapping = lambda v: v if isinstance(v, dict) else {}  # noqa: E731 - a malformed part is ignored
        text = lambda v: v if isinstance(v, str) else None  # noqa: E731
        thresholds = default_thresholds()
        thresholds.update(
            {
                k: float(v)
                for k, v in mapping(data.get("thresholds")).items()
                if k in THRESHOLDS and is_number(v)
            }
        )
        overrides = {
            str(c): {k: float(v) for k, v in mapping(vals).items() if k in INPUTS and is_number(v)}
            for c, vals in mapping(data.get("overrides")).items()
        }
        return cls(
            baseline=text(data.get("baseline")),
            candidate=text(data.get("candidate")),
            thresholds=thresholds,
            overrides={c: v for c, v in overrides.items() if v},
        )


def settings_for(run, root: Path | None = None) -> Settings:
    """Saved settings: the sidecar file wins over run.json's copy; defaults otherwise."""
    return Settings.from_dict(sidecars.read_json(run, sidecars.SCORECARD, root))


def save_settings(run, settings: Settings, root: Path | None = None) -> Path | None:
    """Keep the settings with the run: in ``run.extra`` and, if saved, in ``scorecard.json``."""
    return sidecars.write_json(run, sidecars.SCORECARD, settings.to_dict(), root)
