#!/bin/sh
# bench/hvp.sh BUILD_DIR - the HVP benchmark (bench/hvp.c) with PyTorch when importable.
B=${1:-build}
echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)," \
     "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
PY=${PYTHON:-/usr/bin/python3}
if [ -x "$PY" ] && OMP_NUM_THREADS=1 "$PY" -c 'import torch' 2>/dev/null; then
  OMP_NUM_THREADS=1 exec "$B/bench/hvp" --torch "$PY bench/torch_hvp.py"
fi
exec "$B/bench/hvp"
