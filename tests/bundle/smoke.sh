#!/usr/bin/env bash
# Smoke test of a built MEDITWIN bundle, with no network at all (docs/bundle.md).
#   tests/bundle/smoke.sh [BUNDLE_DIR]        (default: dist/meditwin; ./dev.sh bundle-check)
# In a new network namespace (unshare -n: a loopback interface only, down), with a fresh
# MEDITWIN_HOME, it runs from the bundle:
#   meditwin --version; meditwin twins (all 8 twins listed); meditwin verify --quick --json
#   for two fast twins; meditwin run cardiometabolic --demo fh-patient --json (outcomes);
#   meditwin gui --demo under Xvfb: waits until the demo is on screen, takes a screenshot
#   that must show the application (its theme colours, a grey-level CT slice, coloured
#   3D surfaces), then closes the window with Ctrl+Q.
# Every command runs under `strace -f -e trace=connect,sendto,sendmsg`: any AF_INET/AF_INET6
# address in those calls (an attempt to reach the network, DNS included) fails the test;
# unix sockets (the X server) are fine.
# Needs: unshare, strace, xvfb-run (xvfb, xauth), xdotool, ImageMagick (import, convert).
# Environment: SMOKE_OUT (folder for logs and screenshot; default a temporary one),
# SMOKE_GUI_TIMEOUT (seconds for the demo to appear, default 120).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUNDLE=$(cd "${1:-dist/meditwin}" && pwd)
EXE="$BUNDLE/meditwin"
TWINS=(alzheimer cardiometabolic dravet_epilepsy hlhs_norwood liver_ablation
  retina_microcirculation tumor_response vt_ablation)
VERIFY_TWINS=(cardiometabolic hlhs_norwood)  # ~1.5 s and ~5 s from the venv (--quick)

fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# -- 1. no network: run the rest in a new network namespace -----------------------------------
if [ -z "${MEDITWIN_SMOKE_NETNS:-}" ]; then
  [ -x "$EXE" ] || fail "no executable $EXE (build it: ./dev.sh bundle)"
  for tool in unshare strace xvfb-run xdotool import; do
    command -v "$tool" >/dev/null || fail "$tool is missing (./dev.sh bundle-check installs it)"
  done
  if [ "$(id -u)" -eq 0 ]; then netns=(unshare --net); else netns=(unshare --user --map-root-user --net); fi
  exec env MEDITWIN_SMOKE_NETNS=1 "${netns[@]}" bash "$0" "$BUNDLE"
fi

MAGICK=$(command -v magick || true)
[ -n "$MAGICK" ] || MAGICK=/usr/bin/convert  # not a stand-in named convert earlier on PATH
OUT=${SMOKE_OUT:-$(mktemp -d -t meditwin-smoke-XXXXXX)}
mkdir -p "$OUT"
export MEDITWIN_HOME="$OUT/home"  # fresh: no cached demo, settings or case library
rm -rf "$MEDITWIN_HOME"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
echo "bundle: $BUNDLE"
echo "logs:   $OUT"
interfaces=$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/net/dev | tr '\n' ' ')
echo "network interfaces here: $interfaces"
[ "$interfaces" = "lo " ] || fail "not in an empty network namespace ($interfaces)"

STRACE=(strace -f -qq -e trace=connect,sendto,sendmsg)
strace --seccomp-bpf -e trace=connect true 2>/dev/null && STRACE+=(--seccomp-bpf)
traced() {  # traced NAME COMMAND...: run under strace, its syscall log in $OUT/strace.NAME
  local name=$1; shift
  "${STRACE[@]}" -o "$OUT/strace.$name" "$@"
}
check_no_network() {  # every strace log so far: no IPv4/IPv6 address in connect/sendto/sendmsg
  local hits
  hits=$(grep -h -E 'sa_family=AF_INET6?[,}]' "$OUT"/strace.* || true)
  if [ -n "$hits" ]; then
    echo "$hits" | head -20 >&2
    fail "network access attempted (see $OUT/strace.*)"
  fi
  echo "no AF_INET/AF_INET6 connect/sendto/sendmsg in $(ls "$OUT"/strace.* | wc -l) traces" \
    "($(cat "$OUT"/strace.* | grep -c 'AF_UNIX' || true) unix-socket calls)"
}

# -- 2. the command line ----------------------------------------------------------------------
step "meditwin --version"
version=$(traced version "$EXE" --version) || fail "--version exited $?"
echo "$version"
[[ "$version" == "MEDITWIN Desktop "* ]] || fail "unexpected version line: $version"

step "meditwin twins"
traced twins "$EXE" twins --json > "$OUT/twins.json" 2> "$OUT/twins.err" \
  || { cat "$OUT/twins.err" >&2; fail "meditwin twins exited non-zero"; }
for twin in "${TWINS[@]}"; do
  grep -q "\"id\": \"$twin\"" "$OUT/twins.json" || { cat "$OUT/twins.err" >&2; fail "twin $twin not listed"; }
done
if grep -q "cannot be used" "$OUT/twins.err"; then cat "$OUT/twins.err" >&2; fail "a twin plugin failed"; fi
echo "all ${#TWINS[@]} twins listed: ${TWINS[*]}"

step "meditwin verify --quick --json ${VERIFY_TWINS[*]}"
started=$SECONDS
traced verify "$EXE" verify --quick --json "${VERIFY_TWINS[@]}" > "$OUT/verify.json" \
  2> "$OUT/verify.err" || { tail -20 "$OUT/verify.err" >&2; fail "verify exited non-zero"; }
cases=$(grep -c '"passed": true' "$OUT/verify.json" || true)
failed=$(grep -c '"passed": false' "$OUT/verify.json" || true)
echo "verify: $cases cases passed, $failed failed ($((SECONDS - started)) s)"
[ "$cases" -gt 0 ] && [ "$failed" -eq 0 ] || fail "verification cases failed"

step "meditwin run cardiometabolic --demo fh-patient --json"
started=$SECONDS
traced run "$EXE" run cardiometabolic --demo fh-patient --json > "$OUT/run.json" \
  2> "$OUT/run.err" || { tail -20 "$OUT/run.err" >&2; fail "run exited non-zero"; }
grep -q '"outcomes"' "$OUT/run.json" || fail "no outcomes in the run's JSON"
grep -q '"pce_10y_risk_pct"' "$OUT/run.json" || fail "no 10-year risk outcome"
grep -q '"status": "ok"' "$OUT/run.json" || fail "no scenario ran ok"
echo "run: $(grep -c '"status": "ok"' "$OUT/run.json") scenarios ok ($((SECONDS - started)) s)"

# -- 3. the desktop application on the demo, under Xvfb ---------------------------------------
# in French: the .po catalogues, Babel's locale data and Qt's qtbase_fr.qm from the bundle
step "MEDITWIN_LANG=${SMOKE_GUI_LANG:-fr} meditwin gui --demo (Xvfb 1600x1000)"
export MEDITWIN_LANG=${SMOKE_GUI_LANG:-fr}
export SMOKE_OUT_DIR=$OUT SMOKE_EXE=$EXE SMOKE_MAGICK=$MAGICK
export SMOKE_STRACE="${STRACE[*]}"
xvfb-run -a -s "-screen 0 1600x1000x24" bash "$HERE/gui_check.sh" \
  || fail "the GUI check failed (logs in $OUT)"

check_no_network
echo "SMOKE OK ($BUNDLE)"
