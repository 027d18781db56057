#!/usr/bin/env bash
# test.sh - the project's one test command: installs what the tests drive when a
# fresh machine lacks it, then runs the whole suite (`cargo test --workspace`).
#
#   scripts/test.sh              install what is missing, then cargo test --workspace
#   scripts/test.sh -- ARGS      extra arguments go to cargo test (e.g. -- --test spec)
#
# Every tool a test drives is listed below as "command package": when the command is
# missing, the Debian package is installed (apt-get update once, then apt-get install).
# A test whose tool is still missing fails and names the package; none skips itself.
set -euo pipefail
cd "$(dirname "$0")/.."

# command            Debian package
TOOLS=(
  "tmux              tmux"
  "gdb               gdb"
  "g++               g++"
  "clang++-22        clang-22"
  "lldb-22           lldb-22"
  "node              nodejs"
  "npm               npm"
)

need=()
for entry in "${TOOLS[@]}"; do
  read -r cmd pkg <<<"$entry"
  if [ -n "$cmd" ] && ! command -v "$cmd" >/dev/null 2>&1 && [ ! -e "$cmd" ]; then
    need+=("$pkg")
  fi
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# npm packages the tests drive are pinned by a lock file beside their package.json.
for dir in tests/npm; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  fi
done

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
if [ "${1:-}" = "--" ]; then shift; fi
exec cargo test --workspace "$@"
