#!/usr/bin/env bash
# The first hour, timed: seconds from `npm install -D ./sora-build-X.tgz` in a new project to the first
# built video of `npx sora-build init && npx sora-build build` on the embedded emulator, in real time (no
# scaled clock: this is what a new user waits). Packages come from the npm cache (--prefer-offline), as
# after `npm ci`. Runs on the Node this repository pins (see scripts/pack-smoke.sh).
#
# Usage: bench/first-video.sh [RUNS]     (default 3; prints one line per run, then median and range)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
node_bin="$(cd "$repo" && npx --no -- node -p 'require("path").dirname(process.execPath)')"
work="$(mktemp -d "${TMPDIR:-/tmp}/sora-build-first-video.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$repo" && npm pack --silent --pack-destination "$work")"
export PATH="$node_bin:$PATH"
unset SORA_BUILD_CLOCK

results=()
for i in $(seq 1 "$runs"); do
  project="$work/project-$i"
  mkdir "$project"
  cd "$project"
  printf '{ "name": "my-video", "version": "1.0.0", "private": true }\n' > package.json
  cp "$work/$tarball" .
  start=$(date +%s.%N)
  npm install -D "./$tarball" --prefer-offline --no-audit --no-fund --loglevel=error > install.log 2>&1
  installed=$(date +%s.%N)
  npx --no sora-build init > init.log
  first=""
  # The first "[shot] built" line is the first video in out/.
  while IFS= read -r line; do
    if [[ -z $first && $line == *"] built "* ]]; then first=$(date +%s.%N); fi
  done < <(npx --no sora-build build --reporter plain 2>&1)
  [[ -n $first ]] || { echo "run $i: no video was built" >&2; exit 1; }
  total=$(echo "$first - $start" | bc)
  printf 'run %d: install %.1fs, first video %.1fs after install, total %.1fs\n' "$i" \
    "$(echo "$installed - $start" | bc)" "$(echo "$first - $installed" | bc)" "$total"
  results+=("$total")
  cd "$work"
done
printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {
  m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
  printf "median %.1fs, range %.1f-%.1fs over %d runs\n", m, a[1], a[NR], NR }'
