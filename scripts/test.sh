#!/usr/bin/env bash
# Runs the whole test suite: lint, the import layers, the tests on the checkout, then the
# tests again on the installed wheel. pytest's exit code 5 (no tests collected) is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
.venv/bin/python -m ruff check . || exit 1

# The layers contract reads the installed layout (the wheel maps the root folders into
# strategy_gym), so build the wheel once and lint and test what users install.
wheel_dir=$(mktemp -d)
chmod 755 "$wheel_dir"  # the sandbox children (not root) import the installed copy from here
trap 'rm -rf "$wheel_dir"' EXIT
.venv/bin/python -m pip wheel -q --no-deps --no-build-isolation -w "$wheel_dir" . >/dev/null || exit 1
.venv/bin/python -m pip install -q --no-deps --target "$wheel_dir/site" "$wheel_dir"/*.whl || exit 1
(cd "$wheel_dir" && PYTHONPATH="$wheel_dir/site" "$repo/.venv/bin/lint-imports" "$repo/pyproject.toml") || exit 1

run_pytest() {
  "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing" >&2; return 1; fi
  return "$rc"
}
run_pytest .venv/bin/python -m pytest "$@" || exit $?
# The library's own tests again on the installed wheel (what `pip install strategy-gym` gives).
# Tests that run train_env.py in a subprocess exercise the checkout's script either way, so the
# wheel pass is the library layer: sandbox, games, play, tasks, rewards, agents, packaging.
echo "== the library tests against the installed wheel"
wheel_tests=()
for pattern in sandbox_ game2048_ play packaging seeds task2048_ task_registry math_ totality \
               agents_ multiturn_play vision_generator vision_task; do
  wheel_tests+=("$repo"/tests/test_${pattern}*.py)
done
(cd "$wheel_dir" && PYTHONPATH="$wheel_dir/site" STRATEGY_GYM_UNDER_TEST=wheel \
  run_pytest "$repo/.venv/bin/python" -m pytest -p no:cacheprovider -q --rootdir "$repo" \
  -c "$repo/pyproject.toml" -m "not slow" "${wheel_tests[@]}") || exit $?
