#!/usr/bin/env bash
# The whole speed check on an NVIDIA GPU machine: both backends on the GPU and on the CPU.
#
#   bash scripts/gpu_speed_check.sh [CLIP] [OUT_DIR]
#
# Prepared for a machine with one NVIDIA GPU; NOT run on the development machine (it has
# no GPU, and no GPU machine was lent to this work): see docs/speed.md.
# It sets up (scripts/setup.sh installs onnxruntime-gpu in place of onnxruntime when
# nvidia-smi lists a GPU, and checks that exactly one build is installed), then records,
# in OUT_DIR (default results/gpu-speed-check):
#   environment.txt   nvidia-smi, the ONNX Runtime build, its providers, OpenVINO's devices
#   backends.txt      python -m posebench backends (engines, engine=auto's measured choice,
#                     MediaPipe's GPU delegate available or why not)
#   perf-*.txt        python -m posebench perf on the clip: the tuned preset on CUDA, on
#                     TensorRT and on the CPU (ONNX Runtime and OpenVINO) in the same
#                     interleaved rounds, with MediaPipe lite on its CPU and GPU delegates
#   run.txt           python -m posebench run end to end (decoding included), 3 rounds
# Every step runs even when an earlier one failed; the exit status is the number of failures.
set -uo pipefail
cd "$(dirname "$0")/.."
CLIP=${1:-../shared/clips/cmj_front_jumpmat_30fps.mp4}
OUT=${2:-results/gpu-speed-check}
FRAMES=${FRAMES:-100}
ROUNDS=${ROUNDS:-3}
mkdir -p "$OUT"
failures=0
step() {  # step NAME COMMAND...: run, keep its output in OUT/NAME.txt, count a failure
    local name=$1; shift
    echo "== $name: $*" >&2
    if ! "$@" >"$OUT/$name.txt" 2>&1; then
        failures=$((failures + 1))
        echo "   FAILED (see $OUT/$name.txt)" >&2
    fi
    tail -n 25 "$OUT/$name.txt" >&2
}

step setup bash scripts/setup.sh
PY=.venv/bin/python
step environment bash -c "nvidia-smi; nvidia-smi -L; $PY -m pip list 2>/dev/null | grep -i -E 'onnxruntime|openvino|mediapipe'; \
    $PY -c 'import onnxruntime as o; print(\"providers:\", o.get_available_providers())'; \
    $PY -c 'import openvino as ov; print(\"openvino devices:\", ov.Core().available_devices)'"
step backends "$PY" -m posebench backends

tuned=rtmpose-lightweight-tuned
also=(
    --also "$tuned:engine=onnxruntime,provider=CUDAExecutionProvider,label=tuned-cuda"
    --also "$tuned:engine=onnxruntime,provider=TensorrtExecutionProvider,label=tuned-tensorrt"
    --also "$tuned:engine=onnxruntime,provider=CPUExecutionProvider,label=tuned-cpu-onnxruntime"
    --also "$tuned:engine=openvino,label=tuned-cpu-openvino"
    --also "mediapipe-lite-gpu:label=mediapipe-lite-gpu"
)
step perf-preloaded "$PY" -m posebench perf "$CLIP" --frames "$FRAMES" --rounds "$ROUNDS" "${also[@]}"
step perf-end-to-end "$PY" -m posebench perf "$CLIP" --frames "$FRAMES" --rounds "$ROUNDS" --end-to-end "${also[@]}"
step run "$PY" -m posebench run "$CLIP" --frames "$FRAMES" --rounds "$ROUNDS" --out "$OUT/runs" \
    -b mediapipe-lite -b mediapipe-lite-gpu -b rtmpose-lightweight -b "$tuned" \
    -b "rtmpose-lightweight:provider=CUDAExecutionProvider,label=rtmpose-lightweight-cuda"
echo "done: $failures step(s) failed; outputs in $OUT" >&2
exit "$failures"
