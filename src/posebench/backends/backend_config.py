"""Backend configurations: named presets plus per-run overrides, as data.

A configuration is written ``PRESET`` or ``PRESET:key=value,key=value``, for
example ``rtmpose-lightweight:det_every=10,person=largest``. Its family's levers
dataclass (``posebench.backends.family``) holds every setting, so the CLI, the
dashboard and the results table all speak of the same settings. The presets, their
help and their words come from the registered families (``registry``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from posebench.core.errors import BenchError

from . import family_registry
from .family import Family, lever_of


@dataclass(frozen=True)
class BackendConfig:
    preset: str
    family: str  # the name of its registered family
    levers: Any  # an instance of that family's levers dataclass
    label: str = ""  # shown in tables; defaults to the spec string

    def __getattr__(self, name: str) -> Any:
        """A lever read as an attribute (``config.engine``), for the family's own code."""
        if name.startswith("__") or name == "levers":
            raise AttributeError(name)
        try:
            return getattr(self.__dict__["levers"], name)
        except (KeyError, AttributeError):
            raise AttributeError(
                f"{type(self).__name__} of {self.__dict__.get('family')} has no {name}"
            ) from None

    def with_levers(self, **changes: Any) -> BackendConfig:
        """This configuration with some levers changed (values already typed)."""
        return replace(self, levers=replace(self.levers, **changes))

    def spec(self) -> str:
        """The ``PRESET:key=value`` string that recreates this configuration."""
        base = PRESETS[self.preset].levers
        changed = [
            f"{f.name}={_fmt(getattr(self.levers, f.name))}"
            for f in fields(self.levers)
            if getattr(self.levers, f.name) != getattr(base, f.name)
        ]
        return self.preset + (":" + ",".join(changed) if changed else "")

    @property
    def display(self) -> str:
        return self.label or self.spec()

    def settings(self) -> dict:
        """The settings that matter for this configuration, for tables and run.json (e.g.
        ONNX Runtime's own options are left out when another engine runs the models)."""
        return family_of(self).settings(self.levers)


def _fmt(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def family_of(config: BackendConfig) -> Family:
    """The registered family of ``config``."""
    return family_registry.get(config.family)


# -- views over the registered families (rebuilt when the families change) -----------------
class _View(Mapping):
    """A read-only dict computed from the registry, cached until the families change."""

    def __init__(self, build: Callable[[], dict]):
        self._build = build
        self._data: dict = {}
        self._generation = -1

    def _get(self) -> dict:
        generation = family_registry.generation()
        if generation != self._generation:
            self._data, self._generation = self._build(), generation
        return self._data

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self) -> Iterator:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


def _presets() -> dict[str, BackendConfig]:
    return {
        name: BackendConfig(preset=name, family=family.name, levers=preset.levers)
        for name, (family, preset) in family_registry.presets().items()
    }


PRESETS: Mapping[str, BackendConfig] = _View(_presets)
PRESET_HELP: Mapping[str, str] = _View(
    lambda: {n: p.help for n, (_f, p) in family_registry.presets().items()}
)
# Each preset in a coach's words (what it does, not how); the exact settings stay one click
# away (``format_settings``). ``describe`` adds words for settings changed from the preset.
PRESET_WORDS: Mapping[str, str] = _View(
    lambda: {n: p.words for n, (_f, p) in family_registry.presets().items()}
)
# family -> its lever names, in order
FAMILY_FIELDS: Mapping[str, tuple[str, ...]] = _View(
    lambda: {f.name: tuple(x.name for x in fields(f.levers)) for f in family_registry.families()}
)

# The presets the studies, the CLI and the dashboard start from, by role.
BASELINE_PRESET = "mediapipe-lite"  # what the jump app runs today: the one to replace
CANDIDATE_PRESET = "rtmpose-lightweight"  # rtmlib's lightweight defaults: the candidate
TUNED_PRESET = "rtmpose-lightweight-tuned"  # the candidate with the chosen speed levers
ACCURACY_BASELINE_PRESET = "mediapipe-full"  # the MediaPipe model the accuracy check labels with
# A study's default backends: the baseline and the tuned candidate.
STUDY_PAIR: tuple[str, str] = (BASELINE_PRESET, TUNED_PRESET)
# A run's default backends: the baseline as the jump app runs it, the rtmlib default, and the
# tuned preset, so that a user who keeps the defaults compares MediaPipe with the best RTMPose
# configuration as well as with RTMPose out of the box.
DEFAULT_COMPARISON: tuple[str, ...] = (BASELINE_PRESET, CANDIDATE_PRESET, TUNED_PRESET)


def baseline_family() -> str:
    """The family of the baseline preset: the app's current pose estimator."""
    return PRESETS[BASELINE_PRESET].family


def preset_note(preset: str) -> str:
    """How a preset was chosen, where its family says so ("" otherwise)."""
    found = family_registry.presets().get(preset)
    return found[1].note if found else ""


def describe(config: BackendConfig) -> str:
    """The configuration in words: its preset's words, then its changes from the preset."""
    words = PRESET_WORDS.get(config.preset, config.preset)
    base = PRESETS.get(config.preset)
    if base is None:
        return words
    changes = change_words(config)
    chosen = family_of(config).chosen_words(config.levers, base.levers)
    return words + chosen + (f"; changed: {', '.join(changes)}" if changes else "")


def change_words(config: BackendConfig) -> list[str]:
    """Each setting changed from the configuration's preset, in words, in the levers' order."""
    base = PRESETS.get(config.preset)
    if base is None:
        return []
    family = family_of(config)
    changes = []
    for f in fields(config.levers):
        value = getattr(config.levers, f.name)
        if value == getattr(base.levers, f.name):
            continue
        said = family.describe_change(f.name, value, base.levers)
        if said is None:
            said = lever_of(type(config.levers), f.name).words.get(value) or f"{f.name}={_fmt(value)}"
        if said:
            changes.append(said)
    return changes


def parse(spec: str) -> BackendConfig:
    """``PRESET[:key=value,...]`` -> BackendConfig, with a clear error when wrong."""
    spec = spec.strip()
    name, _, rest = spec.partition(":")
    if name not in PRESETS:
        raise BenchError(f"unknown backend '{name}'; choose from: {', '.join(PRESETS)}")
    config = PRESETS[name]
    if not rest:
        return config
    return override(config, dict(_split_pair(item) for item in rest.split(",") if item.strip()))


def as_config(item: BackendConfig | str) -> BackendConfig:
    """A configuration as given, or parsed from its ``PRESET[:key=value,...]`` spec."""
    return parse(item) if isinstance(item, str) else item


def as_configs(items: Iterable[BackendConfig | str]) -> list[BackendConfig]:
    """``as_config`` of each item, in order."""
    return [as_config(item) for item in items]


def _split_pair(item: str) -> tuple[str, str]:
    key, eq, value = item.partition("=")
    if not eq:
        raise BenchError(f"backend setting '{item}' is not of the form key=value")
    return key.strip(), value.strip()


def override(config: BackendConfig, changes: dict) -> BackendConfig:
    """Return ``config`` with settings changed; values may be strings."""
    names = FAMILY_FIELDS[config.family]
    typed = {}
    label = config.label
    for key, raw in changes.items():
        if key == "label":
            label = raw
        elif key not in names:  # another family's setting would be accepted and do nothing
            allowed = ", ".join(names) + ", label"
            raise BenchError(f"unknown setting '{key}' for {config.preset}; settings: {allowed}")
        else:
            typed[key] = _coerce(config, key, raw)
    return replace(config, levers=replace(config.levers, **typed), label=label)


def _coerce(config: BackendConfig, key: str, raw):
    kind = type(getattr(config.levers, key))
    spec = lever_of(type(config.levers), key)
    if not isinstance(raw, str):
        value = raw
    elif kind is bool:
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise BenchError(f"setting {key} must be true or false, not '{raw}'")
        value = raw.lower() in ("true", "1", "yes", "on")
    elif kind in (int, float):
        try:
            value = kind(raw)
        except ValueError:
            raise BenchError(f"setting {key} must be a number, not '{raw}'") from None
    else:
        value = raw
    if spec.choices and value not in spec.choices:
        raise BenchError(f"setting {key}='{value}' is not one of: {', '.join(map(str, spec.choices))}")
    if spec.bounds:
        low, high = spec.bounds
        unit = f" {spec.unit}" if spec.unit else ""
        if high is None and value < low:
            raise BenchError(f"setting {key} must be {low} or more")
        if high is not None and not low <= value <= high:
            raise BenchError(f"setting {key} must be between {low} and {high}{unit}")
    return value


def format_settings(config: BackendConfig) -> str:
    """``key=value, ...`` of every setting that matters for ``config``: its exact settings."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in config.settings().items())


def settings_help() -> list[str]:
    """Lines for `python -m posebench backends`: every family's levers, then the presets that
    say how they were chosen, in full."""
    lines = []
    for family in family_registry.families():
        lines.append(f"Settings (levers) of the {family.label or family.name} presets:")
        lines += [f"  {f.name:25s} {lever_of(family.levers, f.name).help}" for f in fields(family.levers)]
    for name, (_family, preset) in family_registry.presets().items():
        if preset.note:
            lines += ["", f"{name} runs with: {format_settings(PRESETS[name])}", preset.note]
    return lines
