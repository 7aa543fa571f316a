#!/bin/sh
# make consumer-check: install into a staging directory (make install DESTDIR=... PREFIX=/usr),
# then build tests/consumer/main.c against it, with pkg-config (wengert and wengert-f32) and
# with CMake's find_package(wengert) (wengert::wengert, -static, -f32, -f32-static), and run each.
set -eu
B=${B:-build}
CC=${CC:-cc}
top=$(pwd)
stage="$top/$B/stage"
rm -rf "$stage" "$B/consumer"
mkdir -p "$B/consumer"
make --no-print-directory -s B="$B" CC="$CC" install DESTDIR="$stage" PREFIX=/usr > /dev/null
lib="$stage/usr/lib"

for pc in wengert wengert-f32; do
  bytes=8; [ "$pc" = wengert-f32 ] && bytes=4
  flags=$(PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_LIBDIR="$lib/pkgconfig" pkg-config --cflags --libs "$pc")
  echo "consumer: pkg-config $pc: $(echo "$flags" | sed "s|$stage|\$stage|g")"
  # shellcheck disable=SC2086
  $CC tests/consumer/main.c -DWANT_REAL_BYTES=$bytes $flags -o "$B/consumer/consumer-$pc"
  LD_LIBRARY_PATH="$lib" "$B/consumer/consumer-$pc"
done

echo "consumer: CMake: find_package(wengert) with CMAKE_PREFIX_PATH=\$stage/usr"
cmake -S tests/consumer -B "$B/consumer/cmake" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_PREFIX_PATH="$stage/usr" > "$B/consumer/cmake.log" 2>&1 || { cat "$B/consumer/cmake.log"; exit 1; }
cmake --build "$B/consumer/cmake" > "$B/consumer/build.log" 2>&1 || { cat "$B/consumer/build.log"; exit 1; }
for c in consumer consumer_static consumer_f32 consumer_f32_static; do
  LD_LIBRARY_PATH="$lib" "$B/consumer/cmake/$c"
done
# the shared ones link the staged libraries, not some other libwengert on the system
for c in consumer:libwengert consumer_f32:libwengert-f32 consumer-wengert:libwengert \
         consumer-wengert-f32:libwengert-f32; do
  exe=${c%%:*}; so=${c#*:}.so.0
  case $exe in consumer-*) exe="$B/consumer/$exe" ;; *) exe="$B/consumer/cmake/$exe" ;; esac
  if ! LD_LIBRARY_PATH="$lib" ldd "$exe" | grep -q "$lib/$so"; then
    echo "consumer: $exe does not load $lib/$so"; exit 1
  fi
done
echo "consumer: pkg-config and CMake builds against the staged install work"
