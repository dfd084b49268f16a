#!/usr/bin/env bash
# The GUI half of tests/bundle/smoke.sh, run by it under xvfb-run (DISPLAY set). Starts
# `meditwin gui --demo` under strace, screenshots the screen every few seconds until
# check_screenshot.sh accepts one (the demo's CT slices and 3D surfaces on screen) or
# SMOKE_GUI_TIMEOUT seconds pass, then closes the main window with Ctrl+Q and waits for the
# process to end. Environment from smoke.sh: SMOKE_OUT_DIR, SMOKE_EXE, SMOKE_STRACE.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$SMOKE_OUT_DIR
read -r -a STRACE <<< "$SMOKE_STRACE"
timeout=${SMOKE_GUI_TIMEOUT:-120}

fail() { echo "SMOKE FAIL: $*" >&2; tail -30 "$OUT/gui.log" >&2 || true; exit 1; }

started=$SECONDS
"${STRACE[@]}" -o "$OUT/strace.gui" "$SMOKE_EXE" gui --demo > "$OUT/gui.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT

shown=""
while [ $((SECONDS - started)) -lt "$timeout" ]; do
  sleep 4
  kill -0 "$pid" 2>/dev/null || fail "the application ended by itself ($(wait "$pid"; echo $?))"
  import -window root "$OUT/screenshot.png" 2>/dev/null || continue
  if measures=$(bash "$HERE/check_screenshot.sh" "$OUT/screenshot.png"); then
    shown=$((SECONDS - started))
    break
  fi
done
echo "screenshot: ${measures:-none} -> $OUT/screenshot.png"
[ -n "$shown" ] || fail "the demo was not on screen after $timeout s (last screenshot kept)"
echo "demo on screen after ~${shown} s"

window=$(xdotool search --onlyvisible --name "MEDITWIN Desktop" | tail -1 || true)
[ -n "$window" ] || fail "no visible window named MEDITWIN Desktop"
xdotool windowfocus --sync "$window" key --clearmodifiers ctrl+q
for _ in $(seq 1 30); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if kill -0 "$pid" 2>/dev/null; then fail "the window did not close on Ctrl+Q within 30 s"; fi
code=0
wait "$pid" || code=$?
trap - EXIT
echo "window closed (Ctrl+Q), exit code $code"
[ "$code" -eq 0 ] || fail "the application exited with $code"
if grep -E "Traceback|Error:" "$OUT/gui.log" > /dev/null; then
  fail "errors in the application's output"
fi
