#!/usr/bin/env bash
# Build AdCopy Desktop's Linux artefacts: the PyInstaller one-folder bundle, the .deb, the AppDir
# and the AppImage (our runtime, packaging/linux/appimage), optionally the default-model data .deb.
#
#   bash packaging/build.sh [--edition lite|full] [--skip-bundle] [--model-dir DIR] [--no-appimage]
#
#   --edition      lite (generation only, default) or full (+ torch, transformers, peft, Optimum)
#   --skip-bundle  reuse dist/<edition>/adcopy from an earlier run
#   --model-dir    a built model folder (e.g. ~/.local/share/adcopy/models/qwen2.5-coder-0.5b-instruct)
#                  to package as adcopy-model-default_<version>_all.deb
# Needs: the project's venv with the edition's packages and pyinstaller (pip install -e '.[packaging]'),
# dpkg-deb (DEB_COMPRESS=gzip builds faster, larger; default xz); for the AppImage: cc, mksquashfs,
# libsquashfuse-dev and the static decompression libraries (packaging/linux/appimage/build_runtime.sh;
# appimagetool is the fallback); optional: desktop-file-validate. Outputs go to dist/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-.venv/bin/python}
EDITION=lite
SKIP_BUNDLE=0
MODEL_DIR=
APPIMAGE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --edition) EDITION=$2; shift 2 ;;
    --skip-bundle) SKIP_BUNDLE=1; shift ;;
    --model-dir) MODEL_DIR=$2; shift 2 ;;
    --no-appimage) APPIMAGE=0; shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$EDITION" in lite|full) ;; *) echo "build.sh: --edition lite|full" >&2; exit 2 ;; esac

VERSION=$("$PY" -c 'import adcopy_desktop; print(adcopy_desktop.__version__)')
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
GLIBC=$(ldd --version | head -1 | grep -oE '[0-9]+\.[0-9]+$')
BUNDLE=dist/$EDITION/adcopy

if [ "$SKIP_BUNDLE" = 0 ]; then
  echo "==> PyInstaller ($EDITION)"
  ADCOPY_EDITION=$EDITION "$PY" -m PyInstaller packaging/adcopy.spec --noconfirm \
    --distpath "dist/$EDITION" --workpath "build/pyinstaller-$EDITION"
fi
[ -x "$BUNDLE/adcopy" ] || { echo "build.sh: no bundle at $BUNDLE" >&2; exit 1; }
echo "bundle: $(du -sm "$BUNDLE" | cut -f1) MB unpacked"

if [ "$EDITION" = lite ]; then
  PACKAGE=adcopy; OTHER=adcopy-full
  EDITION_TEXT="This lite edition writes copy only; training and building models need the full edition (adcopy-full)."
else
  PACKAGE=adcopy-full; OTHER=adcopy
  EDITION_TEXT="This full edition also builds models and trains them on accepted copy (torch CPU, transformers, peft, Optimum)."
fi

# -- the .deb -------------------------------------------------------------------------------------
DEBROOT=build/deb/$PACKAGE
rm -rf "$DEBROOT"
mkdir -p "$DEBROOT/DEBIAN" "$DEBROOT/usr/lib" "$DEBROOT/usr/bin" "$DEBROOT/usr/share/applications" \
  "$DEBROOT/usr/share/doc/$PACKAGE" "$DEBROOT/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$DEBROOT/usr/lib/adcopy"
ln -s ../lib/adcopy/adcopy "$DEBROOT/usr/bin/adcopy"
install -m 644 packaging/linux/adcopy.desktop "$DEBROOT/usr/share/applications/adcopy.desktop"
install -m 644 resources/icons/adcopy.svg "$DEBROOT/usr/share/icons/hicolor/scalable/apps/adcopy.svg"
for size in 48 128 256; do
  mkdir -p "$DEBROOT/usr/share/icons/hicolor/${size}x${size}/apps"
  install -m 644 "resources/icons/adcopy-$size.png" "$DEBROOT/usr/share/icons/hicolor/${size}x${size}/apps/adcopy.png"
done
printf 'AdCopy Desktop %s (%s edition). Licence: Apache-2.0.\nBundled third-party components keep their own licences (see usr/lib/adcopy/_internal/*.dist-info).\n' \
  "$VERSION" "$EDITION" > "$DEBROOT/usr/share/doc/$PACKAGE/copyright"
install -m 755 packaging/linux/debian/postinst packaging/linux/debian/prerm "$DEBROOT/DEBIAN/"
SIZE_KB=$(du -sk --exclude=DEBIAN "$DEBROOT" | cut -f1)
sed -e "s/@PACKAGE@/$PACKAGE/" -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@GLIBC@/$GLIBC/" \
    -e "s/@INSTALLED_SIZE@/$SIZE_KB/" -e "s/@CONFLICTS@/$OTHER/g" -e "s/@RECOMMENDS@/adcopy-model-default/" \
    -e "s/@EDITION@/$EDITION/" -e "s|@EDITION_TEXT@|$EDITION_TEXT|" \
    packaging/linux/debian/control.in > "$DEBROOT/DEBIAN/control"
mkdir -p dist
DEB=dist/${PACKAGE}_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group "-Z${DEB_COMPRESS:-xz}" --build "$DEBROOT" "$DEB" >/dev/null
echo "deb: $DEB $(du -m "$DEB" | cut -f1) MB"

# -- the default model as a data package (optional) ----------------------------------------------
if [ -n "$MODEL_DIR" ]; then
  MODEL_ID=$(basename "$MODEL_DIR")
  MROOT=build/deb/adcopy-model-default
  rm -rf "$MROOT"; mkdir -p "$MROOT/DEBIAN" "$MROOT/usr/share/adcopy/models"
  cp -a "$MODEL_DIR" "$MROOT/usr/share/adcopy/models/$MODEL_ID"
  rm -f "$MROOT/usr/share/adcopy/models/$MODEL_ID/.verified" "$MROOT/usr/share/adcopy/models/$MODEL_ID/.owner"
  read -r PRECISION LICENCE < <("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1]));print(m.get("precision","fp32"), (m.get("licence") or {}).get("name","see the model card"))' "$MODEL_DIR/manifest.json")
  sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$(du -sk "$MROOT/usr" | cut -f1)/" \
      -e "s/@MODEL_ID@/$MODEL_ID/" -e "s/@PRECISION@/$PRECISION/" -e "s/@LICENCE@/$LICENCE/" \
      packaging/linux/debian/model-control.in > "$MROOT/DEBIAN/control"
  dpkg-deb --root-owner-group "-Z${DEB_COMPRESS:-xz}" --build "$MROOT" "dist/adcopy-model-default_${VERSION}_all.deb" >/dev/null
  echo "model deb: dist/adcopy-model-default_${VERSION}_all.deb"
fi

# -- AppDir / AppImage ---------------------------------------------------------------------------
APPDIR=build/appdir/$EDITION/AdCopy.AppDir
rm -rf "$APPDIR"; mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications"
cp -a "$BUNDLE" "$APPDIR/usr/lib/adcopy"
install -m 755 packaging/linux/appimage/AppRun "$APPDIR/AppRun"
install -m 644 packaging/linux/adcopy.desktop "$APPDIR/adcopy.desktop"
install -m 644 packaging/linux/adcopy.desktop "$APPDIR/usr/share/applications/adcopy.desktop"
install -m 644 resources/icons/adcopy-256.png "$APPDIR/adcopy.png"
ln -sf adcopy.png "$APPDIR/.DirIcon"
if [ -n "$MODEL_DIR" ] && [ "$EDITION" = lite ]; then
  mkdir -p "$APPDIR/usr/share/adcopy/models"
  cp -a "$MODEL_DIR" "$APPDIR/usr/share/adcopy/models/$(basename "$MODEL_DIR")"
fi
echo "AppDir: $APPDIR"
if [ "$APPIMAGE" = 1 ]; then
  NAME=AdCopy-$([ "$EDITION" = full ] && echo Full- || true)$VERSION-$(uname -m).AppImage
  # Our runtime (packaging/linux/appimage/runtime.c: extracts instead of mounting, needs no FUSE)
  # + a squashfs image of the AppDir. APPIMAGE_RUNTIME: a runtime built elsewhere (it is static).
  RUNTIME=${APPIMAGE_RUNTIME:-build/appimage-runtime/runtime}
  if [ -z "${APPIMAGE_RUNTIME:-}" ] && command -v mksquashfs >/dev/null 2>&1; then
    bash packaging/linux/appimage/build_runtime.sh "$RUNTIME" || RUNTIME=
  fi
  if [ -n "$RUNTIME" ] && [ -x "$RUNTIME" ] && command -v mksquashfs >/dev/null 2>&1; then
    bash packaging/linux/appimage/make_appimage.sh "$APPDIR" "dist/$NAME" "$RUNTIME"
    echo "AppImage: dist/$NAME $(du -m "dist/$NAME" | cut -f1) MB (our runtime, $(./"dist/$NAME" --appimage-version | head -1))"
  elif command -v appimagetool >/dev/null 2>&1; then
    # fallback where the runtime cannot be built (no cc, mksquashfs or libsquashfuse-dev)
    ARCH=$(uname -m) appimagetool --no-appstream "$APPDIR" "dist/$NAME"
    echo "AppImage: dist/$NAME (appimagetool)"
  else
    echo "build.sh: no AppImage: needs cc, mksquashfs (squashfs-tools) and libsquashfuse-dev with" \
      "zlib1g-dev liblzma-dev liblzo2-dev liblz4-dev libzstd-dev (or appimagetool); AppDir built." >&2
  fi
fi
