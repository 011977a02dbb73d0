#!/usr/bin/env bash
# Build AdCopy Desktop's AppImage runtime (runtime.c): one static x86_64 ELF that reads the
# squashfs image appended to it with libsquashfuse, then write the AppImage type-2 magic
# ('A','I',0x02) into e_ident's padding at file offset 8.
#
#   bash packaging/linux/appimage/build_runtime.sh OUTPUT
#
# Needs: cc, the static libraries of libsquashfuse-dev and of the decompressors Debian builds it
# with (zlib1g-dev, liblzma-dev, liblzo2-dev, liblz4-dev, libzstd-dev). CC and CFLAGS are honoured.
set -euo pipefail
OUT=${1:?usage: build_runtime.sh OUTPUT}
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
mkdir -p "$(dirname "$OUT")"
# -static: the runtime must start on any x86_64 Linux, whatever its libc and libraries.
# libsquashfuse.a calls every decompressor it was configured with, so all of them are linked.
"$CC" -std=c11 -O2 -Wall -Wextra -static -s ${CFLAGS:-} -o "$OUT.tmp" "$HERE/runtime.c" \
  -lsquashfuse -lzstd -llz4 -llzma -llzo2 -lz
printf 'AI\002' | dd of="$OUT.tmp" bs=1 seek=8 conv=notrunc status=none
# the image will be appended at the end of the section header table: that must be the file's end
python3 - "$OUT.tmp" <<'PY'
import os, struct, sys
data = open(sys.argv[1], "rb").read(64)
assert data[:4] == b"\x7fELF" and data[8:11] == b"AI\x02", "magic bytes not written"
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
end = shoff + shentsize * shnum
size = os.path.getsize(sys.argv[1])
assert end == size, f"section header table ends at {end}, the file at {size}"
PY
mv "$OUT.tmp" "$OUT"
chmod 755 "$OUT"
