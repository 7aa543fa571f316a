#!/bin/sh
# bench/run.sh BUILD_DIR [ARGS] - wengert's benchmark, float64 then float32, with the peers
# that are installed. Peers are optional: none is needed to build or test wengert.
#   PyTorch   Debian's /usr/bin/python3 (or $PYTHON) when `import torch` works: bench/bench
#             runs bench/torch_bench.py between its own rounds (one thread, the same precision)
#   OpenBLAS  loaded by bench/bench itself with dlopen (libopenblas.so.0) when installed
#   KANN      when make bench KANN=/path/to/kann built $KANN_BENCH (bench/kann_bench.c)
# ARGS go to both binaries (--quick, --openblas-core NAME, ...).
B=${1:-build}; shift
cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
fam=$(sed -n 's/^cpu family[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "machine: ${cpu:-unknown CPU} (family ${fam:-?}), $(nproc) CPUs;" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "command: make bench${*:+ BENCH_ARGS=\"$*\"}   ($(date -u '+%Y-%m-%d %H:%M UTC'))"
PY=${PYTHON:-/usr/bin/python3}
TORCH=
if [ -x "$PY" ] && OMP_NUM_THREADS=1 "$PY" -c 'import torch' 2>/dev/null; then
  echo "PyTorch $(OMP_NUM_THREADS=1 "$PY" -c 'import torch; print(torch.__version__)') via $PY"
  TORCH="$PY bench/torch_bench.py"
else
  echo "PyTorch not importable with $PY: its ratios are skipped"
fi
status=0
out=$(mktemp)
for bin in "$B/bench/bench" "$B/bench/bench-f32"; do
  [ -x "$bin" ] || { echo "bench: $bin is missing (make bench builds it)"; status=1; continue; }
  echo
  echo "==== $(basename "$bin") ===="
  if [ -n "$TORCH" ]; then OMP_NUM_THREADS=1 "$bin" "$@" --torch "$TORCH" > "$out" || status=1
  else "$bin" "$@" > "$out" || status=1; fi
  cat "$out"
done
# KANN (make bench KANN=/path): its W2 and W3 float32 steps, run right after bench-f32 (whose
# output is in $out), and wengert float32's ratio to them (the faster of replay and record).
if [ -n "$KANN_BENCH" ] && [ -x "$KANN_BENCH" ]; then
  echo
  echo "==== KANN (float32, one thread$(pkg-config --exists openblas 2>/dev/null && echo ', OpenBLAS sgemm')) ===="
  OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE= "$KANN_BENCH" > "$out.kann" || status=1
  for w in W2 W3; do
    k=$(awk -v w="$w" '$1 == "kann" && $2 == w {print $3}' "$out.kann")
    g=$(awk -v w="$w" '$1 == w && NF > 8 {print ($2 < $3 ? $2 : $3); exit}' "$out")
    awk -v w="$w" -v k="$k" -v g="$g" 'BEGIN { if (k > 0 && g > 0)
      printf "  %s  KANN %8.1f us  wengert float32 %8.1f us  wengert/KANN %.3f\n", w, k, g, g / k }'
  done
  rm -f "$out.kann"
fi
rm -f "$out"
exit $status
