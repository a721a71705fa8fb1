#!/usr/bin/env bash
# Set up a virtual environment for diffusion-sandbox in ./.venv (or $VENV).
#   scripts/setup.sh          the program (sandbox window, render, tdl)
#   scripts/setup.sh --dev    also the test and diffusers/transformers extras
# Torch: without an NVIDIA GPU (no nvidia-smi) we install the CPU build, which avoids several GB of
# CUDA packages. With a GPU we install the default build from PyPI, which includes CUDA.
# Force either with TORCH_VARIANT=cpu|cuda.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "error: Python >= 3.10 is needed ($PY is $("$PY" --version 2>&1))" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)

variant=${TORCH_VARIANT:-}
if [ -z "$variant" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then variant=cuda; else variant=cpu; fi
fi
if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
  echo "installing torch ($variant build)..."
  if [ "$variant" = cpu ]; then
    # The CPU index holds 2.13.0+cpu; PEP 440 ranks it above PyPI's CUDA 2.13.0, so pip takes it.
    # Where that index cannot be reached (an offline mirror that already carries a CPU wheel), skip
    # it rather than let pip retry it for every dependency.
    cpu_index=https://download.pytorch.org/whl/cpu
    if "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('$cpu_index/torch/', timeout=5)" >/dev/null 2>&1; then
      "${pip[@]}" --extra-index-url "$cpu_index" "torch==2.13.0"
    else
      echo "note: $cpu_index is unreachable; taking torch==2.13.0 from the configured package index"
      "${pip[@]}" "torch==2.13.0"
    fi
  else
    "${pip[@]}" "torch==2.13.0"
  fi
fi
echo "installing diffusion-sandbox$extras..."
"${pip[@]}" -e ".$extras"
echo "ready: $VENV/bin/diffusion-sandbox"
