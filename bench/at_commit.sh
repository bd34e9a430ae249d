#!/bin/sh
# Run the benchmarks on exactly one commit, whatever else the working tree holds:
#   bench/at_commit.sh [COMMIT] [BENCH NAMES...]      (COMMIT defaults to HEAD)
# The commit is exported (git archive) to a temporary directory that borrows this tree's .venv; the
# sections are written into this tree's docs/performance.md, each stamped with the commit.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$here" rev-parse --short "${1:-HEAD}")
[ $# -gt 0 ] && shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/cencomm-bench-$commit-XXXXXX")
trap 'rm -rf "$dir"' EXIT
git -C "$here" archive "$commit" | tar -x -C "$dir"
ln -s "$here/.venv" "$dir/.venv"
cd "$dir"
CENCOMM_BENCH_COMMIT="$commit" CENCOMM_BENCH_DOC="${CENCOMM_BENCH_DOC:-$here/docs/performance.md}" .venv/bin/python -m bench "$@"
