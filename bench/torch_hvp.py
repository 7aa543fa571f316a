"""torch_hvp.py - PyTorch's Hessian-vector product of the W2 network, the peer of bench/hvp.c.

    python3 bench/torch_hvp.py      prints "HVP <microseconds per product>"

float64, one thread. One product = forward, torch.autograd.grad(L, params, create_graph=True),
then torch.autograd.grad(sum(g * v), params) (reverse over reverse), median of 5 batches.
Exits 0 quietly without torch.
"""
import time

try:
    import torch
except Exception:
    raise SystemExit(0)

torch.set_num_threads(1)
torch.manual_seed(0)
D = torch.float64
M, IN, HID = 256, 512, 256
X = torch.rand(M, IN, dtype=D) * 2 - 1
y = (torch.rand(M, 1, dtype=D) < 0.5).to(D)
params = [((torch.rand(IN, HID, dtype=D) * 2 - 1) / IN ** 0.5).requires_grad_(),
          torch.zeros(1, HID, dtype=D, requires_grad=True),
          ((torch.rand(HID, 1, dtype=D) * 2 - 1) / HID ** 0.5).requires_grad_(),
          torch.zeros(1, 1, dtype=D, requires_grad=True)]
v = [torch.rand_like(p) * 2 - 1 for p in params]


def step():
    h = torch.tanh(X @ params[0] + params[1])
    a = torch.sigmoid(h @ params[2] + params[3])
    loss = torch.nn.functional.binary_cross_entropy(a, y)
    g = torch.autograd.grad(loss, params, create_graph=True)
    s = sum((gi * vi).sum() for gi, vi in zip(g, v))
    return torch.autograd.grad(s, params)


step()
t0 = time.perf_counter()
step()
one = time.perf_counter() - t0
batch = max(1, min(1000, int(0.3 / one)))
times = []
for _ in range(5):
    t0 = time.perf_counter()
    for _ in range(batch):
        step()
    times.append((time.perf_counter() - t0) * 1e6 / batch)
times.sort()
print("HVP %.1f" % times[2])
