#!/bin/sh
# make models-check: the real-data examples reach their held-out accuracy from a fresh build,
# a saved model reloads to the same accuracy, and NumPy opens it (when /usr/bin/python3 has
# numpy). Exit non-zero on any miss.
set -eu
B=${B:-build}
# EX=examples-f32: the same checks on the examples built against the float32 library, which
# also opens the float64 examples' model files and they its files (the other dtype converts)
EX=${EX:-examples}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# accuracy LABEL MIN FILE: the last "test accuracy: NN.N%" of FILE must be >= MIN
accuracy() {
  acc=$(grep 'test accuracy:' "$3" | tail -n 1 | sed 's/.*: \([0-9.]*\)%.*/\1/')
  if [ -z "$acc" ] || ! awk -v a="$acc" -v m="$2" 'BEGIN { exit !(a >= m) }'; then
    echo "models-check: $1: test accuracy ${acc:-missing}%, expected at least $2%"; fail=1
  else
    echo "models-check: $1: test accuracy $acc% (>= $2%)"
  fi
}

"$B/$EX/breast_cancer" --model logreg > "$tmp/logreg.txt"
accuracy "breast_cancer logistic regression" 95 "$tmp/logreg.txt"
"$B/$EX/breast_cancer" --model mlp --save "$tmp/bc.npz" > "$tmp/mlp.txt"
accuracy "breast_cancer MLP" 95 "$tmp/mlp.txt"
"$B/$EX/breast_cancer" --model mlp --load "$tmp/bc.npz" --epochs 0 > "$tmp/reload.txt"
if [ "$(grep 'test accuracy' "$tmp/mlp.txt")" != "$(grep 'test accuracy' "$tmp/reload.txt")" ]; then
  echo "models-check: the reloaded MLP scores differently"; fail=1
fi
"$B/$EX/digits" --save "$tmp/digits.npz" > "$tmp/digits.txt" 2> "$tmp/digits.err"
accuracy "digits softmax MLP" 95 "$tmp/digits.txt"
# stop after 500 steps (mid-epoch) with a checkpoint, resume: bitwise the uninterrupted weights
"$B/$EX/digits" --stop-after 500 --checkpoint "$tmp/ck.npz" > "$tmp/stop.txt" 2>&1
"$B/$EX/digits" --resume "$tmp/ck.npz" --save "$tmp/resumed.npz" > "$tmp/resumed.txt" 2>&1
if cmp -s "$tmp/digits.npz" "$tmp/resumed.npz" &&
   [ "$(grep 'test accuracy' "$tmp/digits.txt")" = "$(grep 'test accuracy' "$tmp/resumed.txt")" ]; then
  echo "models-check: digits stopped at step 500 and resumed: weights bitwise those of the run without a stop"
else
  echo "models-check: the resumed digits run differs from the run without a stop"; fail=1
fi
# the convolutional network (conv2d, maxpool2d): at least 98% on the digits split, and a
# stop at step 500 (epoch 12, batch 5) resumed to bitwise the weights of the run without a stop
"$B/$EX/cnn_digits" --save "$tmp/cnn.npz" > "$tmp/cnn.txt" 2> "$tmp/cnn.err"
accuracy "cnn_digits convolutional network" 98 "$tmp/cnn.txt"
"$B/$EX/cnn_digits" --stop-after 500 --checkpoint "$tmp/cnn_ck.npz" > "$tmp/cnn_stop.txt" 2>&1
"$B/$EX/cnn_digits" --resume "$tmp/cnn_ck.npz" --save "$tmp/cnn_resumed.npz" > "$tmp/cnn_resumed.txt" 2>&1
if cmp -s "$tmp/cnn.npz" "$tmp/cnn_resumed.npz" &&
   [ "$(grep 'test accuracy' "$tmp/cnn.txt")" = "$(grep 'test accuracy' "$tmp/cnn_resumed.txt")" ]; then
  echo "models-check: cnn_digits stopped at step 500 and resumed: weights bitwise those of the run without a stop"
else
  echo "models-check: the resumed cnn_digits run differs from the run without a stop"; fail=1
fi
# multi-output regression: the in-sample fit reaches NumPy's least-squares R^2 (0.268, 0.548,
# 0.075: numpy.linalg.lstsq on the same 20 rows; average 0.297)
"$B/$EX/linnerud" > "$tmp/linnerud.txt" 2> "$tmp/linnerud.err"
if grep -q 'R^2 Weight 0.268, Waist 0.548, Pulse 0.075; average 0.297' "$tmp/linnerud.txt"; then
  echo "models-check: linnerud 3-output linear model: in-sample R^2 as least squares' (average 0.297)"
else
  echo "models-check: linnerud: $(tail -n 1 "$tmp/linnerud.txt")"; fail=1
fi
# character-level GRU (examples/char_gru.c): the held-out loss falls from ln 67 = 4.205 to
# 1.955 nats per character (measured); 2.3 leaves margin. --check: the three gradient oracles
# pass on the unrolled tape. Stopped at step 250 and resumed: bitwise the same weights.
"$B/$EX/char_gru" --save "$tmp/gru.npz" > "$tmp/gru.txt" 2> "$tmp/gru.err"
gru=$(sed -n 's/^held-out loss after [0-9]* steps: \([0-9.]*\) nats.*/\1/p' "$tmp/gru.txt")
if [ -n "$gru" ] && awk -v l="$gru" 'BEGIN { exit !(l < 2.3) }'; then
  echo "models-check: char_gru: held-out loss $gru nats per character (< 2.3)"
else
  echo "models-check: char_gru: held-out loss ${gru:-missing}, expected below 2.3"; fail=1
fi
if [ "$("$B/$EX/char_gru" --check | grep -c ': pass$')" != 3 ]; then
  echo "models-check: char_gru --check: $("$B/$EX/char_gru" --check | tr '\n' ' ')"; fail=1
else
  echo "models-check: char_gru --check: wg_gradcheck, wg_check_rows and wg_dot_test pass on the unrolled tape"
fi
"$B/$EX/char_gru" --stop-after 250 --checkpoint "$tmp/gru_ck.npz" > "$tmp/gru_stop.txt" 2>&1
"$B/$EX/char_gru" --resume "$tmp/gru_ck.npz" --save "$tmp/gru_resumed.npz" > "$tmp/gru_resumed.txt" 2>&1
if cmp -s "$tmp/gru.npz" "$tmp/gru_resumed.npz" &&
   [ "$(grep 'held-out loss after' "$tmp/gru.txt")" = "$(grep 'held-out loss after' "$tmp/gru_resumed.txt")" ]; then
  echo "models-check: char_gru stopped at step 250 and resumed: weights bitwise those of the run without a stop"
else
  echo "models-check: the resumed char_gru run differs from the run without a stop"; fail=1
fi
"$B/$EX/xor" > "$tmp/xor.txt"
accuracy "xor 2-2-1" 100 "$tmp/xor.txt"

# bad input: a clear message and a non-zero exit
printf 'a,b,y\n1,2,0\n3,x,1\n' > "$tmp/bad.csv"
if "$B/$EX/breast_cancer" --data "$tmp/bad.csv" > /dev/null 2> "$tmp/err.txt"; then
  echo "models-check: malformed CSV accepted"; fail=1
elif ! grep -q 'line 3, column 2 (b)' "$tmp/err.txt"; then
  echo "models-check: unexpected message: $(cat "$tmp/err.txt")"; fail=1
fi

# one build opens the other's model: the float64 MLP loaded by the float32 example scores as
# it did, and the float32 one loaded by the float64 example (both dtypes convert on load)
if [ "$EX" = examples-f32 ] && [ -x "$B/examples/breast_cancer" ]; then
  "$B/examples/breast_cancer" --model mlp --save "$tmp/bc64.npz" > "$tmp/mlp64.txt"
  "$B/$EX/breast_cancer" --model mlp --load "$tmp/bc64.npz" --epochs 0 > "$tmp/mlp64in32.txt"
  "$B/examples/breast_cancer" --model mlp --load "$tmp/bc.npz" --epochs 0 > "$tmp/mlp32in64.txt"
  if [ "$(grep 'test accuracy' "$tmp/mlp64.txt")" = "$(grep 'test accuracy' "$tmp/mlp64in32.txt")" ] &&
     [ "$(grep 'test accuracy' "$tmp/mlp.txt")" = "$(grep 'test accuracy' "$tmp/mlp32in64.txt")" ]; then
    echo "models-check: the float32 example scores the float64 model as saved, and the float64 one the float32 model"
  else
    echo "models-check: a model loaded by the other build scores differently"; fail=1
  fi
fi

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  want=float64; [ "$EX" = examples-f32 ] && want=float32
  out=$(cd "$tmp" && /usr/bin/python3 -c 'import numpy as np; z = np.load("bc.npz"); print(sorted(z.files), z["W1"].shape, z["W2"].shape, z["W1"].dtype, z["b2"].dtype)')
  if [ "$out" = "['W1', 'W2', 'b1', 'b2'] (30, 16) (16, 1) $want $want" ]; then
    echo "models-check: numpy.load reads the saved model: $out"
  else
    echo "models-check: numpy.load gave: $out"; fail=1
  fi
  out=$(cd "$tmp" && /usr/bin/python3 -c 'import numpy as np
z = np.load("ck.npz")
s = [int(h) << 32 | int(l) for h, l in z["rng.shuffle"]]
print(len(z.files), z["optim.W1.exp_avg_sq"].shape, int(z["optim.step"][0, 0]), int(z["value.epoch"][0, 0]), int(z["value.batch"][0, 0]), all(0 <= w < 2**64 for w in s))')
  if [ "$out" = "20 (64, 64) 500 12 5 True" ]; then
    echo "models-check: numpy.load reads the checkpoint: 20 arrays, Adam state, step 500, epoch 12, batch 5"
  else
    echo "models-check: numpy.load gave for the checkpoint: $out"; fail=1
  fi
else
  echo "models-check: /usr/bin/python3 with numpy not found: NumPy step skipped"
fi
exit $fail
