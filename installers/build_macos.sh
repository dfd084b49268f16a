#!/usr/bin/env bash
# Build the MEDITWIN Desktop bundle on macOS (arm64 or x86_64, the machine's own) - UNTRIED:
# written from the Linux build, never run on a Mac (docs/bundle.md lists what to check).
#   bash installers/build_macos.sh
# Needs Python 3.11 (python.org or Homebrew). Output: dist/meditwin/ (meditwin: the command
# line), "dist/MEDITWIN Desktop.app" and dist/meditwin-<version>-macos-<arch>.dmg (hdiutil).
# The .app is not signed nor notarised: Gatekeeper asks the user to allow it (right-click,
# Open) unless it is signed with a Developer ID (codesign) and notarised (notarytool).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/venv-bundle
[ -x "$venv/bin/python" ] || "${PYTHON:-python3.11}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
# a regular install, not editable (-e): PyInstaller must see meditwin_twins
"$venv/bin/python" -m pip install -q . "pyinstaller>=6.10,<7"
"$venv/bin/python" -m pip install -q --no-deps --force-reinstall .
"$venv/bin/pyinstaller" --noconfirm --log-level WARN --workpath build/pyinstaller \
  --distpath dist installers/meditwin.spec
dist/meditwin/meditwin --version
dist/meditwin/meditwin twins
version=$(dist/meditwin/meditwin --version | awk '{print $NF}')
dmg="dist/meditwin-$version-macos-$(uname -m).dmg"
rm -f "$dmg"
hdiutil create -volname "MEDITWIN Desktop" -srcfolder "dist/MEDITWIN Desktop.app" -ov \
  -format UDZO "$dmg"
echo "bundle: dist/meditwin  app: dist/MEDITWIN Desktop.app  release: $dmg"
echo "Install: open the .dmg, drag MEDITWIN Desktop to Applications."
