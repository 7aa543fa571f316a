"""torch_bench.py - the PyTorch peer for bench/bench.c: the same workloads, one thread, float64
(float32 with --float32, for build/bench/bench-f32).

    python3 bench/torch_bench.py [W1 W2 W3 W4 C] [--quick] [--float32]

Prints "<key> <microseconds per step>" lines (median of repeated batches) for the workloads
named (all by default). bench/bench.c runs it between its own rounds when `import torch` works
(bench/run.sh checks); it exits 0 quietly without torch. One step = forward, backward, SGD
update (parameters updated in place, grads set to None), as in bench.c.
"""
import sys
import time

try:
    import torch
except Exception:  # no torch: the driver prints "peer not available"
    sys.exit(0)

torch.set_num_threads(1)
torch.manual_seed(0)
QUICK = "--quick" in sys.argv
D = torch.float32 if "--float32" in sys.argv else torch.float64
WANT = [a for a in sys.argv[1:] if not a.startswith("-")] or ["W1", "W2", "W3", "W4", "C"]
LR = 0.01


def median_us(step, budget_us):
    step()
    step()
    t0 = time.perf_counter()
    step()
    one = (time.perf_counter() - t0) * 1e6
    batch = max(1, min(100000, int(budget_us / one))) if one > 0 else 1000
    times = []
    for _ in range(3 if QUICK else 5):
        t0 = time.perf_counter()
        for _ in range(batch):
            step()
        times.append((time.perf_counter() - t0) * 1e6 / batch)
    times.sort()
    return times[len(times) // 2]


def mlp(m, widths, act):
    X = torch.rand(m, widths[0], dtype=D) * 2 - 1
    y = (torch.rand(m, 1, dtype=D) < 0.5).to(D)
    params = []
    for a, b in zip(widths[:-1], widths[1:]):
        W = ((torch.rand(a, b, dtype=D) * 2 - 1) / a ** 0.5).requires_grad_()
        bias = torch.zeros(1, b, dtype=D, requires_grad=True)
        params += [W, bias]

    def step():
        h = X
        n = len(params) // 2
        for i in range(n):
            z = h @ params[2 * i] + params[2 * i + 1]
            h = torch.sigmoid(z) if i == n - 1 else act(z)
        loss = torch.nn.functional.binary_cross_entropy(h, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    return step


def chain():
    p = torch.full((1, 1), 0.3, dtype=D, requires_grad=True)

    def step():
        v = p
        for _ in range(1000):
            v = torch.sigmoid(1.5 * v + 0.1)
        v.sum().backward()
        with torch.no_grad():
            p.sub_(LR * p.grad)
            p.grad = None

    return step


def conv():
    # C: conv2d of 64 images 1x28x28 with 6 kernels 5x5 (LeNet's first layer), forward and
    # backward of the sum into both the input and the weight
    X = (torch.rand(64, 1, 28, 28, dtype=D) * 2 - 1).requires_grad_()
    W = (torch.rand(6, 1, 5, 5, dtype=D) * 2 - 1).requires_grad_()

    def step():
        torch.nn.functional.conv2d(X, W).sum().backward()
        X.grad = None
        W.grad = None

    return step


budget = 10000 if QUICK else 30000
make = {
    "W1": lambda: mlp(569, [30, 1], None),
    "W2": lambda: mlp(256, [512, 256, 1], torch.tanh),
    "W3": lambda: mlp(128, [784, 512, 512, 1], torch.relu),
    "W4": chain,
    "C": conv,
}
for key in WANT:
    print("%s %.3f" % (key, median_us(make[key](), budget)))
sys.stdout.flush()
