#!/bin/sh
# make models-check: the real-data examples reach their held-out accuracy from a fresh build,
# a saved model reloads to the same accuracy, and NumPy opens it (when /usr/bin/python3 has
# numpy). Exit non-zero on any miss.
set -eu
B=${B:-build}
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

"$B/examples/breast_cancer" --model logreg > "$tmp/logreg.txt"
accuracy "breast_cancer logistic regression" 95 "$tmp/logreg.txt"
"$B/examples/breast_cancer" --model mlp --save "$tmp/bc.npz" > "$tmp/mlp.txt"
accuracy "breast_cancer MLP" 95 "$tmp/mlp.txt"
"$B/examples/breast_cancer" --model mlp --load "$tmp/bc.npz" --epochs 0 > "$tmp/reload.txt"
if [ "$(grep 'test accuracy' "$tmp/mlp.txt")" != "$(grep 'test accuracy' "$tmp/reload.txt")" ]; then
  echo "models-check: the reloaded MLP scores differently"; fail=1
fi
"$B/examples/digits" > "$tmp/digits.txt"
accuracy "digits softmax MLP" 95 "$tmp/digits.txt"
"$B/examples/xor" > "$tmp/xor.txt"
accuracy "xor 2-2-1" 100 "$tmp/xor.txt"

# bad input: a clear message and a non-zero exit
printf 'a,b,y\n1,2,0\n3,x,1\n' > "$tmp/bad.csv"
if "$B/examples/breast_cancer" --data "$tmp/bad.csv" > /dev/null 2> "$tmp/err.txt"; then
  echo "models-check: malformed CSV accepted"; fail=1
elif ! grep -q 'line 3, column 2 (b)' "$tmp/err.txt"; then
  echo "models-check: unexpected message: $(cat "$tmp/err.txt")"; fail=1
fi

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  out=$(cd "$tmp" && /usr/bin/python3 -c 'import numpy as np; z = np.load("bc.npz"); print(sorted(z.files), z["W1"].shape, z["W2"].shape)')
  if [ "$out" = "['W1', 'W2', 'b1', 'b2'] (30, 16) (16, 1)" ]; then
    echo "models-check: numpy.load reads the saved model: $out"
  else
    echo "models-check: numpy.load gave: $out"; fail=1
  fi
else
  echo "models-check: /usr/bin/python3 with numpy not found: NumPy step skipped"
fi
exit $fail
