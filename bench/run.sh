#!/bin/sh
# bench/run.sh BUILD_DIR [--quick] - wengert's benchmark with the peers that are installed.
# Peers are optional: none is needed to build or test wengert.
#   PyTorch   Debian's /usr/bin/python3 (or $PYTHON) when `import torch` works: bench/bench
#             runs bench/torch_bench.py between its own rounds (one thread, float64)
#   OpenBLAS  loaded by bench/bench itself with dlopen (libopenblas.so.0) when installed
B=${1:-build}; shift
echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)," \
     "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "command: make bench${*:+ BENCH_ARGS=$*}   ($(date -u '+%Y-%m-%d %H:%M UTC'))"
PY=${PYTHON:-/usr/bin/python3}
if [ -x "$PY" ] && OMP_NUM_THREADS=1 "$PY" -c 'import torch' 2>/dev/null; then
  echo "PyTorch $(OMP_NUM_THREADS=1 "$PY" -c 'import torch; print(torch.__version__)') via $PY"
  OMP_NUM_THREADS=1 exec "$B/bench/bench" "$@" --torch "$PY bench/torch_bench.py"
fi
echo "PyTorch not importable with $PY: its ratios are skipped"
exec "$B/bench/bench" "$@"
