#!/usr/bin/env bash
# Installs strategy-gym into ./.venv on a CPU machine: torch first, pinned to the CPU build,
# so nothing later can pull CUDA wheels; then the package (editable) with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==2.13.0"
fi
.venv/bin/python -m pip install -q -e ".[train,math,dev]"
.venv/bin/python -c "import torch; assert not torch.version.cuda or torch.cuda.is_available(), 'a CUDA torch build landed on a CPU machine'"
echo "strategy-gym installed in .venv ($(.venv/bin/python -c 'import torch, trl, transformers; print("torch", torch.__version__, "trl", trl.__version__, "transformers", transformers.__version__)'))"
