#!/usr/bin/env bash
# MEDITWIN Desktop developer entry point; each command installs what it needs first.
#   ./dev.sh run      create .venv, install the app, start it on the demo patient
#   ./dev.sh test     install system packages (Xvfb, Qt xcb libraries) and test extras, run pytest
#   ./dev.sh bench    run the benchmarks in tests/bench on a virtual screen
#   ./dev.sh bundle   build the stand-alone bundle dist/meditwin/ (installers/meditwin.spec)
#   ./dev.sh bundle-check  smoke-test it offline: CLI, twins, verify, run, GUI (tests/bundle)
#   ./dev.sh release  bundle, then dist/meditwin-<version>-linux-<arch>.tar.gz (docs/bundle.md)
# Extra arguments go to the underlying command (e.g. ./dev.sh test -k slicing).
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
RUNTIME_APT=(libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libglib2.0-0 libfontconfig1
  libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcursor1)
TEST_APT=(xvfb xauth orthanc dicom3tools)  # a real PACS and dciodvfy for tests/unit/test_pacs*.py
BUNDLE_VENV=build/venv-bundle  # a regular (non-editable) install: PyInstaller sees the twins
BUNDLE_APT=(binutils)          # strip, readelf (installers/meditwin.spec)
BUNDLE_CHECK_APT=(xvfb xauth xdotool imagemagick strace util-linux)

python_311() {
  for candidate in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "MEDITWIN Desktop needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  exit 1
}

ensure_apt() {  # install missing Debian packages when we may; otherwise say what is missing
  command -v dpkg-query >/dev/null || return 0
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
      echo "Missing system packages: ${missing[*]}" >&2
      echo "Install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "Installing system packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {  # $1: pip extra ("" for the app alone, "test" for the test tools)
  local extra=$1 stamp="$VENV/.installed${1:+-$1}"
  [ -x "$VENV/bin/python" ] || "$(python_311)" -m venv "$VENV"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".${extra:+[$extra]}"
    touch "$stamp"
  fi
}

command=${1:-}
shift || true
case "$command" in
  run)
    ensure_apt "${RUNTIME_APT[@]}"
    ensure_venv ""
    exec "$VENV/bin/meditwin" gui --demo "$@"
    ;;
  test)
    ensure_apt "${RUNTIME_APT[@]}" "${TEST_APT[@]}"
    ensure_venv test
    unset QT_QPA_PLATFORM  # offscreen cannot host the VTK widget; pytest-xvfb provides a screen
    # the whole suite (pyproject's testpaths) in two workers (pytest-xdist), each test file
    # whole in one of them: the runs a file caches (a benchmark slab, a demo heart) are made
    # once; each worker has its own Xvfb and MEDITWIN_HOME (tests/conftest.py)
    # --durations: the slowest tests in every CI log (the run must stay under 15 minutes)
    exec "$VENV/bin/python" -m pytest -n "${MEDITWIN_TEST_WORKERS:-2}" --dist loadfile \
      --durations=25 "$@"
    ;;
  bench)
    ensure_apt "${RUNTIME_APT[@]}" "${TEST_APT[@]}"
    ensure_venv test
    for bench in tests/bench/bench_*.py; do
      echo "== $bench"
      xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/python" "$bench" "$@"
    done
    ;;
  bundle|release)
    ensure_apt "${BUNDLE_APT[@]}"
    [ -x "$BUNDLE_VENV/bin/python" ] || "$(python_311)" -m venv "$BUNDLE_VENV"
    stamp="$BUNDLE_VENV/.installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then  # the dependencies
      "$BUNDLE_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
      "$BUNDLE_VENV/bin/python" -m pip install -q --disable-pip-version-check . "pyinstaller>=6.10,<7"
      touch "$stamp"
    fi
    # this tree's code, as a regular install (no editable import hook), every time
    "$BUNDLE_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
      --force-reinstall .
    "$BUNDLE_VENV/bin/pyinstaller" --noconfirm --log-level WARN --workpath build/pyinstaller \
      --distpath dist installers/meditwin.spec "$@"
    echo "bundle: dist/meditwin ($(du -sm dist/meditwin | cut -f1) MiB)"
    if [ "$command" = release ]; then exec bash installers/release_linux.sh dist/meditwin dist; fi
    ;;
  bundle-check)
    ensure_apt "${RUNTIME_APT[@]}" "${BUNDLE_CHECK_APT[@]}"
    exec bash tests/bundle/smoke.sh "${1:-dist/meditwin}"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
