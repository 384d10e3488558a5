#!/usr/bin/env bash
# Installs strategy-gym into ./.venv on a CPU machine: torch first, pinned to the CPU build,
# so nothing later can pull CUDA wheels; then the package (editable) with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# The sandbox's seccomp filter is compiled by libseccomp (through pyseccomp). Without the
# library the pool still runs and reports "seccomp": False in protections().
if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null && $SUDO true 2>/dev/null; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libseccomp2
  else
    echo "note: libseccomp2 is missing and cannot be installed here; the sandbox runs without seccomp" >&2
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==2.13.0"
fi
.venv/bin/python -m pip install -q -e ".[train,math,dev,ray]"  # ray: the Ray sandbox backend, so its tests run in CI
# Headless Chromium renders the evaluator's report.html in tests/test_eval_html.py (Debian package).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
.venv/bin/python -c "import torch; assert not torch.version.cuda or torch.cuda.is_available(), 'a CUDA torch build landed on a CPU machine'"
echo "strategy-gym installed in .venv ($(.venv/bin/python -c 'import torch, trl, transformers; print("torch", torch.__version__, "trl", trl.__version__, "transformers", transformers.__version__)'))"
