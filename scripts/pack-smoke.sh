#!/usr/bin/env bash
# The first hour of a new user, in CI: pack sora-build, install the tarball into a new project that cannot
# see this repository, then `init`, `build` on the embedded emulator and a rebuild that must be a no-op.
# These are exactly the commands of the README's "Use it in your project".
#
# Node: sora-build needs Node 22 or newer. The machines here ship Node 20, so the temporary project runs on
# the Node 24 this repository pins (its binary's folder first on PATH, nothing else of the repository): the
# same thing a user gets with `npm install -D node@24` in their own project.
#
# Packages come from the npm cache that `npm ci` filled (--prefer-offline), so this makes no download
# when the cache is warm. SORA_BUILD_CLOCK runs the embedded emulator's render times faster (default: 30x).
#
# Usage: scripts/pack-smoke.sh [--keep]      (--keep leaves the temporary project for inspection)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
keep=0
[[ "${1:-}" == "--keep" ]] && keep=1

node_bin="$(cd "$repo" && npx --no -- node -p 'require("path").dirname(process.execPath)')"
work="$(mktemp -d "${TMPDIR:-/tmp}/sora-build-pack-smoke.XXXXXX")"
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$work"; else echo "pack-smoke: kept $work"; fi; }
trap cleanup EXIT

fail() {
  echo "pack-smoke: FAILED: $*" >&2
  exit 1
}

# `npm pack` runs the `prepare` script, so the tarball carries a fresh dist/.
tarball="$(cd "$repo" && npm pack --silent --pack-destination "$work")"
mkdir "$work/project"
cd "$work/project"
export PATH="$node_bin:$PATH"
export SORA_BUILD_CLOCK="${SORA_BUILD_CLOCK:-scaled:30}"
# The project is new: no npmrc, workspace or parent package.json of the repository applies to it.
printf '{ "name": "my-video", "version": "1.0.0", "private": true }\n' > package.json

echo "pack-smoke: npm install -D ./$tarball (node $(node --version))"
cp "$work/$tarball" .
npm install -D "./$tarball" --prefer-offline --no-audit --no-fund --loglevel=error

[[ -f node_modules/sora-build/dist/cli/main.js ]] || fail "the package has no dist/"
[[ ! -e node_modules/sora-build/src ]] || fail "the package ships src/"
[[ ! -e node_modules/sora-build/test ]] || fail "the package ships test/"

echo "pack-smoke: npx sora-build init"
init_out="$(npx --no sora-build init)"
echo "$init_out"
next="$(sed -n 's/^Next: \(.*[^ ]\) *#.*$/\1/p' <<<"$init_out")"
[[ "$next" == "npx sora-build build" ]] || fail "init's Next line is '$next'"

echo "pack-smoke: $next"
first="$(npx --no sora-build build --reporter plain 2>&1)" || fail "build exited $?: $first"
echo "$first"
grep -q 'sora-build: built 3 · fresh 0 · cached 0 · failed 0 · blocked 0' <<<"$first" || fail "the first build did not build 3 shots"
for f in out/harbor.mp4 out/lighthouse.mp4 out/lighthouse-night.mp4 storyboard.lock; do
  [[ -s $f ]] || fail "$f is missing"
done
lock_before="$(sha256sum storyboard.lock)"

echo "pack-smoke: npx sora-build build (again: nothing to do)"
again="$(npx --no sora-build build --reporter plain 2>&1)" || fail "rebuild exited $?: $again"
echo "$again"
grep -q 'nothing to generate' <<<"$again" || fail "the rebuild planned work"
grep -q 'sora-build: built 0 · fresh 3 · cached 0 · failed 0 · blocked 0' <<<"$again" || fail "the rebuild was not a no-op"
[[ "$(sha256sum storyboard.lock)" == "$lock_before" ]] || fail "the rebuild changed the lockfile"

echo "pack-smoke: ok"
