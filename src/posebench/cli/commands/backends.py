"""``python -m posebench backends``: what can run here, and why not for the rest."""

from __future__ import annotations

from posebench import backends
from posebench.backends import engines, sessions
from posebench.backends.config import CADENCE_HELP, PRESET_HELP, parse, settings_help


def register(sub) -> None:
    p = sub.add_parser("backends", help="list backends: what can run here, and why not")
    p.set_defaults(func=run)


def run(args) -> int:
    print(f"ONNX Runtime execution providers here: {', '.join(backends.available_providers()) or 'none'}")
    print("Engines for the RTMPose models (engine=...):")
    print("\n".join(engines.describe()))
    tuned = parse("rtmpose-lightweight-tuned")
    choice = engines.cached_choice(tuned)
    if choice:
        costs = ", ".join(
            f"{r['engine']} {r['provider']} {r['cost_ms']:.1f} ms"
            for r in choice["candidates"]
            if "cost_ms" in r
        )
        print(
            f"  engine=auto (the tuned preset) runs on {choice['engine']} {choice['provider']}: the "
            f"fastest measured here on {choice['measured_at']} (cost per frame: {costs})"
        )
    else:
        print("  engine=auto (the tuned preset): measured on its first run here, then cached")
    gpu = sessions.mediapipe_gpu_problem()
    print(f"MediaPipe delegates: CPU; GPU {'available' if gpu is None else 'not here: ' + gpu}")
    for config, reason in backends.list_presets():
        mark = "ok  " if reason is None else "n/a "
        note = PRESET_HELP.get(config.preset, "")
        line = f"{mark}{config.preset:28s} {note}"
        if reason:
            line += f"\n      not here: {reason}"
        print(line)
    print(f"\nSettings are given as NAME:key=value,... ; {CADENCE_HELP}.")
    print("\n".join(["", *settings_help()]))
    return 0
