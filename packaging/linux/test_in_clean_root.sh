#!/usr/bin/env bash
# Install a built .deb into a clean Debian 12 root and smoke-test it there: apt-get install of the
# .deb (its Depends pull the Qt libraries), the installed `adcopy` generates headless on a tiny
# model, and the window opens under Xvfb with a screenshot. Needs root, mmdebstrap and the Debian
# mirror (or a cached root tarball).
#
#   sudo bash packaging/linux/test_in_clean_root.sh dist/adcopy_0.1.0_amd64.deb SMOKE_HOME [OUT_DIR]
#   sudo APPIMAGE=dist/AdCopy-0.1.0-x86_64.AppImage bash packaging/linux/test_in_clean_root.sh ...
#
# SMOKE_HOME: an ADCOPY_HOME with a model (packaging/make_smoke_home.py). OUT_DIR (default
# build/clean-root) gets the root, the screenshot and timings. With APPIMAGE set, the AppImage is
# run first in the bare root (no FUSE, nothing installed: first start unpacks, a later start reuses
# it, generate headless) and, once the .deb has pulled in the desktop libraries, opens its window.
set -euo pipefail
DEB=$(readlink -f "$1"); HOME_SRC=$(readlink -f "$2"); OUT=$(readlink -f "${3:-build/clean-root}")
mkdir -p "$OUT"
TARBALL=$OUT/bookworm-root.tar
ROOTFS=$OUT/root
[ -f "$TARBALL" ] || mmdebstrap --variant=apt --mode=root bookworm "$TARBALL" http://deb.debian.org/debian
rm -rf "$ROOTFS"; mkdir -p "$ROOTFS"
tar -C "$ROOTFS" -xf "$TARBALL"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
cp "$DEB" "$ROOTFS/tmp/"
[ -n "${APPIMAGE:-}" ] && install -m 755 "$APPIMAGE" "$ROOTFS/tmp/AdCopy.AppImage"
cp -a "$HOME_SRC" "$ROOTFS/tmp/smoke-home"
mount --bind /proc "$ROOTFS/proc"
mount --bind /dev "$ROOTFS/dev"
trap 'umount "$ROOTFS/dev" "$ROOTFS/proc" 2>/dev/null || true' EXIT
in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
# timed LABEL CMD...: wall time and peak RSS, measured from outside (the root has no /usr/bin/time)
timed() { local label=$1; shift; /usr/bin/time -f "$label: %e s, %M KB" chroot "$ROOTFS" /usr/bin/env -i \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 ADCOPY_HOME=/tmp/smoke-home "$@"; }

in_root apt-get update -q >/dev/null
if [ -n "${APPIMAGE:-}" ]; then
  # the bare root: no Qt libraries, no FUSE, no /dev/fuse
  timed "AppImage first start (unpack)" /tmp/AdCopy.AppImage --version
  timed "AppImage later start" /tmp/AdCopy.AppImage --version
  timed "AppImage generate" /tmp/AdCopy.AppImage generate --product "Type: denim jacket
Color: white" --kind title -n 2 --max-new-tokens 16 --seed 1
  timed "AppImage --appimage-extract-and-run" /tmp/AdCopy.AppImage --appimage-extract-and-run --version
  du -sm "$ROOTFS/root/.cache/adcopy-appimage"/*
fi
start=$(date +%s.%N)
in_root apt-get install -y -q "/tmp/$(basename "$DEB")" > "$OUT/apt-install.log" 2>&1
echo "apt-get install: $(echo "$(date +%s.%N) - $start" | bc) s"
grep -E "^(Setting up adcopy|AdCopy Desktop is installed)" "$OUT/apt-install.log" || true
in_root dpkg -s "$(dpkg-deb -f "$DEB" Package)" | grep -E "^(Status|Installed-Size)"
in_root which adcopy
in_root adcopy --version
for i in 1 2 3; do
  timed "adcopy --help" adcopy --help >/dev/null
done
timed "adcopy generate" adcopy generate --product "Type: denim jacket
Color: white" --kind title -n 2 --max-new-tokens 16 --seed 1
# the window: test-only packages for Xvfb and the screenshot check
in_root apt-get install -y -q xvfb xauth > "$OUT/apt-xvfb.log" 2>&1
for i in 1 2 3; do
  in_root /usr/bin/env ADCOPY_HOME=/tmp/smoke-home ADCOPY_QUIT_AFTER_MS=4000 ADCOPY_SCREENSHOT=/tmp/window.png \
    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" adcopy 2>&1 | grep "window shown" || true
done
if [ -n "${APPIMAGE:-}" ]; then
  for i in 1 2; do
    in_root /usr/bin/env ADCOPY_HOME=/tmp/smoke-home ADCOPY_QUIT_AFTER_MS=4000 ADCOPY_SCREENSHOT=/tmp/appimage-window.png \
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" /tmp/AdCopy.AppImage 2>&1 | grep "window shown" || true
  done
  cp "$ROOTFS/tmp/appimage-window.png" "$OUT/appimage-window.png"
  echo "AppImage screenshot: $OUT/appimage-window.png ($(stat -c %s "$OUT/appimage-window.png") bytes)"
fi
cp "$ROOTFS/tmp/window.png" "$OUT/window.png"
echo "screenshot: $OUT/window.png ($(stat -c %s "$OUT/window.png") bytes)"
# the screenshot is a real window: a PNG of the window's size with more than a few colours
python3 - "$OUT/window.png" ${APPIMAGE:+"$OUT/appimage-window.png"} <<'PY'
import struct, sys, zlib
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 500, (width, height)
    assert len(data) > 20_000, "too small to be the window"
    print(f"screenshot checked: {name} {width}x{height}")
PY
in_root apt-get remove -y -q "$(dpkg-deb -f "$DEB" Package)" 2>&1 | grep -E "Removing|data stays|stay" || true
test -d "$ROOTFS/tmp/smoke-home/data/models" && echo "after removal: the user's data folder is still there"
