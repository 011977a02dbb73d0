#!/usr/bin/env bash
# Assemble an AppImage from an AppDir without appimagetool: our runtime (build_runtime.sh) followed
# by a squashfs image of the AppDir (mksquashfs from squashfs-tools).
#
#   bash packaging/linux/appimage/make_appimage.sh APPDIR OUTPUT [RUNTIME]
#
# RUNTIME: a runtime built earlier (default: build one next to OUTPUT). APPIMAGE_COMP: the squashfs
# compressor (default zstd; the runtime reads gzip, xz, lzo, lz4 and zstd).
set -euo pipefail
APPDIR=${1:?usage: make_appimage.sh APPDIR OUTPUT [RUNTIME]}
OUT=${2:?usage: make_appimage.sh APPDIR OUTPUT [RUNTIME]}
RUNTIME=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$APPDIR/AppRun" ] || { echo "make_appimage.sh: $APPDIR has no executable AppRun" >&2; exit 1; }
command -v mksquashfs >/dev/null || { echo "make_appimage.sh: mksquashfs not found (apt-get install squashfs-tools)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
if [ -z "$RUNTIME" ]; then
  RUNTIME=$OUT.runtime
  bash "$HERE/build_runtime.sh" "$RUNTIME"
fi
[ -x "$RUNTIME" ] || { echo "make_appimage.sh: no runtime at $RUNTIME" >&2; exit 1; }
IMG=$OUT.squashfs
rm -f "$IMG" "$OUT"
# -root-owned: files belong to whoever extracts them; -noappend: a fresh image every time
mksquashfs "$APPDIR" "$IMG" -root-owned -noappend -comp "${APPIMAGE_COMP:-zstd}" -no-progress >/dev/null
cat "$RUNTIME" "$IMG" > "$OUT"
rm -f "$IMG"
[ "$RUNTIME" = "$OUT.runtime" ] && rm -f "$RUNTIME"
chmod 755 "$OUT"
