"""Engine and execution-provider choice: measured, never assumed (issue 10).

Only the providers this onnxruntime build has can run here (CPU; the Azure provider is not
a local device); GPU providers are given as lists to test the selection logic.
"""

from __future__ import annotations

import json

import pytest

from posebench import backends
from posebench.backends import engines, sessions
from posebench.backends.backend_config import parse

pytestmark = pytest.mark.timeout(300)


def test_candidates_are_the_local_providers_of_this_build_and_openvino():
    here = engines.candidates()
    assert ("onnxruntime", "CPUExecutionProvider") in here
    assert ("openvino", "CPU") in here  # installed by set-up
    assert all(p != "AzureExecutionProvider" for _e, p in here)  # not a local device
    assert {p for e, p in here if e == "onnxruntime"} == set(sessions.local_providers())


def test_gpu_providers_become_candidates_when_the_build_has_them():
    gpu_build = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    pairs = engines.candidates(providers=gpu_build, ov_devices=[])
    assert pairs == [("onnxruntime", p) for p in gpu_build]
    assert engines.candidates(
        providers=["CPUExecutionProvider", "AzureExecutionProvider"], ov_devices=["CPU"]
    ) == [
        ("onnxruntime", "CPUExecutionProvider"),
        ("openvino", "CPU"),
    ]


def test_the_cheapest_measured_candidate_wins_and_the_choice_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path))
    calls = []
    measured = {
        ("onnxruntime", "CUDAExecutionProvider"): None,  # present in the build, fails to load
        ("onnxruntime", "CPUExecutionProvider"): 9.0,
        ("openvino", "CPU"): 6.0,
    }

    def fake_measure(config, pairs, rounds=3):
        calls.append(pairs)
        rows = []
        for engine, provider in pairs:
            cost = measured[(engine, provider)]
            row = {"engine": engine, "provider": provider}
            row.update({"error": "no CUDA driver"} if cost is None else {"cost_ms": cost})
            rows.append(row)
        return rows

    monkeypatch.setattr(engines, "measure", fake_measure)
    tuned = parse("rtmpose-lightweight-tuned")
    choice = engines.choose(tuned, list(measured))
    assert (choice["engine"], choice["provider"], choice["cached"]) == ("openvino", "CPU", False)
    again = engines.choose(tuned, list(measured))
    assert again["cached"] and again["engine"] == "openvino" and len(calls) == 1
    stored = json.loads((tmp_path / engines.CACHE_FILE).read_text())
    assert len(stored) == 1 and next(iter(stored.values()))["candidates"][0]["error"] == "no CUDA driver"
    # another thread setting is another measurement
    engines.choose(parse("rtmpose-lightweight-tuned:intra_threads=1"), list(measured))
    assert len(calls) == 2
    resolved = engines.apply(tuned, "openvino", "CPU")
    assert resolved.engine == "openvino" and resolved.display == "rtmpose-lightweight-tuned"


def test_a_choice_made_on_a_busy_machine_is_measured_again_when_it_is_quiet(monkeypatch):
    monkeypatch.setattr(engines.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert engines._stale({"load_1min": 9.0, "cores": 2})
    assert not engines._stale({"load_1min": 1.0, "cores": 2})
    monkeypatch.setattr(engines.os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    assert not engines._stale({"load_1min": 9.0, "cores": 2})  # still busy: keep it
    # a choice without its load (cached by an older version, whatever the load then) is unknown
    assert engines._stale({"engine": "onnxruntime", "cores": 2})


@pytest.mark.integration
def test_engine_auto_is_measured_on_this_machine_and_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path))
    config, choice = backends.resolve(parse("rtmpose-lightweight-tuned"))
    assert {(r["engine"], r["provider"]) for r in choice["candidates"]} == set(engines.candidates())
    assert all(r["cost_ms"] > 0 for r in choice["candidates"])
    fastest = min(choice["candidates"], key=lambda r: r["cost_ms"])
    assert (config.engine, choice["provider"]) == (fastest["engine"], fastest["provider"])
    backend = backends.create(config)
    try:
        assert backend.config.engine == config.engine != "auto"
        assert backend.engine_settings()["pose"]
    finally:
        backend.close()


@pytest.mark.integration
def test_openvino_and_onnxruntime_find_the_same_person(tmp_path):
    """OpenVINO computes in bfloat16 on this CPU: close to ONNX Runtime's keypoints, not identical."""
    import numpy as np

    from conftest import LAB
    from posebench.engine.runner import run_benchmark
    from posebench.store.run_record import RunOptions

    run = run_benchmark(
        str(LAB),
        [
            "rtmpose-lightweight-tuned:engine=onnxruntime,label=ort",
            "rtmpose-lightweight-tuned:engine=openvino,label=ov",
        ],
        RunOptions(max_frames=10, warmup=0),
    )
    assert list(run.summary["status"]) == ["ok", "ok"]
    from posebench.analysis import metrics

    agree = metrics.agreement(run.frames, "ort", "ov")
    assert agree.loc["all", "within_0.05"] > 0.95
    assert np.isfinite(agree.loc["all", "median"])
