#!/usr/bin/env bash
# Launch-to-window time of the bundle against the development venv (docs/bundle.md):
#   xvfb-run -a -s "-screen 0 1600x1000x24" tests/bundle/startup.sh [BUNDLE_DIR] [RUNS]
# Runs `meditwin gui --demo --exit-after-render` RUNS times (default 3) from each, after one
# untimed run of each that writes the demo patient (the same MEDITWIN_HOME, so both open the
# cached demo), and prints the seconds from the process start to each marker the app prints:
# MEDITWIN_WINDOW (first window painted), MEDITWIN_FIRST_SLICE (demo CT slice painted),
# MEDITWIN_RENDERED (every view rendered, 3D included), measured here from the process start
# (fork/exec and the bundle's unpacking included), with the app's own since_main in brackets.
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle=${1:-dist/meditwin}
runs=${2:-3}
venv_python=${VENV_PYTHON:-.venv/bin/python}
export MEDITWIN_HOME=${MEDITWIN_HOME:-$(mktemp -d -t meditwin-startup-XXXXXX)}
export QT_QPA_PLATFORM=xcb

measure() {  # measure LABEL COMMAND...: one line of marker times
  local label=$1; shift
  local start line now out=""
  start=$(date +%s.%N)
  while IFS= read -r line; do
    case "$line" in
      MEDITWIN_*)
        now=$(date +%s.%N)
        out+=$(awk -v n="$now" -v s="$start" -v m="${line%% *}" -v l="$line" 'BEGIN {
          match(l, /since_main=[0-9.]+/)
          printf " %s=%.2f(%s)", m, n - s, substr(l, RSTART + 11, RLENGTH - 11) }')
        ;;
    esac
  done < <("$@" gui --demo --exit-after-render 2>/dev/null)
  echo "$label$out"
}

"$venv_python" -m meditwin_desktop gui --demo --exit-after-render > /dev/null 2>&1
"$bundle/meditwin" gui --demo --exit-after-render > /dev/null 2>&1
for i in $(seq 1 "$runs"); do
  measure "venv   run $i:" "$venv_python" -m meditwin_desktop
  measure "bundle run $i:" "$bundle/meditwin"
done
