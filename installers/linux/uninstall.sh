#!/bin/sh
# Remove MEDITWIN Desktop installed by install.sh (this folder, the command link, the menu
# entry and the icon). The user's cases and logs (~/.local/share/meditwin) are kept.
set -eu
here=$(dirname "$(readlink -f "$0")")
data=${XDG_DATA_HOME:-$HOME/.local/share}
[ "$(readlink -f "$HOME/.local/bin/meditwin" 2>/dev/null)" = "$here/meditwin" ] && rm -f "$HOME/.local/bin/meditwin"
rm -f "$data/applications/meditwin.desktop" "$data/icons/hicolor/scalable/apps/meditwin.svg"
rm -rf "$here"
echo "MEDITWIN Desktop removed; your cases and logs in $data/meditwin are kept."
