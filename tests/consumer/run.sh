#!/bin/sh
# make consumer-check: install into a staging directory (make install DESTDIR=... PREFIX=/usr),
# then build tests/consumer/main.c against it twice, with pkg-config and with CMake's
# find_package(wengert) (the shared and the static target), and run each.
set -eu
B=${B:-build}
CC=${CC:-cc}
top=$(pwd)
stage="$top/$B/stage"
rm -rf "$stage" "$B/consumer"
mkdir -p "$B/consumer"
make --no-print-directory -s B="$B" CC="$CC" install DESTDIR="$stage" PREFIX=/usr > /dev/null
lib="$stage/usr/lib"

echo "consumer: pkg-config: $(PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_LIBDIR="$lib/pkgconfig" \
  pkg-config --cflags --libs wengert | sed "s|$stage|\$stage|g")"
# shellcheck disable=SC2046
$CC tests/consumer/main.c $(PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_LIBDIR="$lib/pkgconfig" \
  pkg-config --cflags --libs wengert) -o "$B/consumer/consumer-pc"
LD_LIBRARY_PATH="$lib" "$B/consumer/consumer-pc"

echo "consumer: CMake: find_package(wengert) with CMAKE_PREFIX_PATH=\$stage/usr"
cmake -S tests/consumer -B "$B/consumer/cmake" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_PREFIX_PATH="$stage/usr" > "$B/consumer/cmake.log" 2>&1 || { cat "$B/consumer/cmake.log"; exit 1; }
cmake --build "$B/consumer/cmake" > "$B/consumer/build.log" 2>&1 || { cat "$B/consumer/build.log"; exit 1; }
LD_LIBRARY_PATH="$lib" "$B/consumer/cmake/consumer"
"$B/consumer/cmake/consumer_static"
# the shared one links the staged library, not some other libwengert on the system
if ! LD_LIBRARY_PATH="$lib" ldd "$B/consumer/cmake/consumer" | grep -q "$lib/libwengert.so.0"; then
  echo "consumer: the CMake build does not load $lib/libwengert.so.0"; exit 1
fi
echo "consumer: pkg-config and CMake builds against the staged install work"
