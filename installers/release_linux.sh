#!/usr/bin/env bash
# Make the Linux release artefact from a built bundle (./dev.sh release runs it):
#   installers/release_linux.sh [BUNDLE_DIR] [OUT_DIR]   (default: dist/meditwin dist)
# -> OUT_DIR/meditwin-<version>-linux-<arch>.tar.gz (+ .sha256), which unpacks to
#   meditwin-<version>-linux-<arch>/
#     meditwin            launcher (no arguments: the desktop application)
#     app/                the PyInstaller bundle (app/meditwin is the executable)
#     install.sh          per-user install, no root: ~/.local/opt/meditwin, menu entry, icon
#     uninstall.sh        removes what install.sh added (cases and logs are kept)
#     meditwin.desktop    menu entry template; meditwin.svg its icon; README.md (docs/bundle.md)
# A tarball rather than an AppImage: no FUSE needed on locked-down clinic workstations, no
# image to mount and decompress at each start, installable by a user without root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(cd "${1:-$root/dist/meditwin}" && pwd)
out=$(mkdir -p "${2:-$root/dist}" && cd "${2:-$root/dist}" && pwd)
version=$("$bundle/meditwin" --version | awk '{print $NF}')
name="meditwin-$version-linux-$(uname -m)"
staging="$root/build/release/$name"
rm -rf "$staging"
mkdir -p "$staging"
cp -a "$bundle" "$staging/app"
cp "$root/installers/linux/meditwin" "$root/installers/linux/install.sh" \
  "$root/installers/linux/uninstall.sh" "$root/installers/linux/meditwin.desktop" "$staging/"
cp "$root/resources/icons/meditwin.svg" "$staging/meditwin.svg"
cp "$root/docs/bundle.md" "$staging/README.md"
chmod 0755 "$staging/meditwin" "$staging/install.sh" "$staging/uninstall.sh"
compress=(gzip -6)
command -v pigz >/dev/null && compress=(pigz -6)
tar -C "$root/build/release" --owner=0 --group=0 -cf - "$name" | "${compress[@]}" > "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
rm -rf "$staging"
echo "$out/$name.tar.gz"
echo "  on disk (unpacked): $(du -sm "$bundle" | cut -f1) MiB bundle; tarball: $(du -m "$out/$name.tar.gz" | cut -f1) MiB"
