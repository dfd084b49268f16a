#!/bin/sh
# Install MEDITWIN Desktop for the current user, without root and without network:
#   ./install.sh [PREFIX]      (default PREFIX: ~/.local/opt/meditwin)
# Copies this folder to PREFIX, links PREFIX/meditwin as ~/.local/bin/meditwin and adds the
# menu entry (~/.local/share/applications/meditwin.desktop) and its icon. ./uninstall.sh
# (in PREFIX) removes all of it; cases and logs in ~/.local/share/meditwin are kept.
set -eu
src=$(dirname "$(readlink -f "$0")")
prefix=${1:-$HOME/.local/opt/meditwin}
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=$HOME/.local/bin
if [ "$(readlink -f "$prefix")" != "$src" ]; then
  rm -rf "$prefix.new"
  mkdir -p "$(dirname "$prefix")"
  cp -a "$src" "$prefix.new"
  rm -rf "$prefix"
  mv "$prefix.new" "$prefix"
fi
mkdir -p "$bin" "$data/applications" "$data/icons/hicolor/scalable/apps"
ln -sf "$prefix/meditwin" "$bin/meditwin"
cp "$prefix/meditwin.svg" "$data/icons/hicolor/scalable/apps/meditwin.svg"
sed -e "s|@EXEC@|\"$prefix/meditwin\"|" -e "s|@ICON@|meditwin|" "$prefix/meditwin.desktop" \
  > "$data/applications/meditwin.desktop"
chmod 0644 "$data/applications/meditwin.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
echo "MEDITWIN Desktop installed in $prefix"
echo "Start it from the applications menu, or: $bin/meditwin   (meditwin gui --demo: the demo)"
case ":$PATH:" in *":$bin:"*) ;; *) echo "Note: $bin is not on your PATH." ;; esac
