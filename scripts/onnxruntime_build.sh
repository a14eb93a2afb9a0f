#!/usr/bin/env bash
# Which ONNX Runtime build set-up installs here: prints "gpu" when `nvidia-smi -L` lists at
# least one NVIDIA GPU (onnxruntime-gpu, requirements-gpu.txt), else "cpu" (onnxruntime,
# requirements.txt). POSEBENCH_ORT=cpu|gpu overrides the detection.
set -euo pipefail
case "${POSEBENCH_ORT:-auto}" in
    cpu|gpu) echo "$POSEBENCH_ORT"; exit 0 ;;
    auto) ;;
    *) echo "POSEBENCH_ORT must be cpu, gpu or auto, not '${POSEBENCH_ORT}'" >&2; exit 2 ;;
esac
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
    gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU [0-9]' || true)
fi
if [[ "${gpus:-0}" -ge 1 ]]; then echo gpu; else echo cpu; fi
