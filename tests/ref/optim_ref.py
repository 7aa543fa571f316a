# Reference numbers for tests/check_model.c's optimizer tests: PyTorch's optimizers in float64.
# Run: /usr/bin/python3 tests/ref/optim_ref.py  (output written down in check_model.c)
import torch
torch.set_default_dtype(torch.float64)
p0 = [0.5, -1.0, 2.0]
gs = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05], [0.2, 0.2, -0.1]]
def run(name, make):
    p = torch.nn.Parameter(torch.tensor(p0))
    opt = make([p])
    for k, g in enumerate(gs):
        p.grad = torch.tensor(g)
        opt.step()
        print(name, "step", k + 1, [repr(float(x)) for x in p.detach()])
run("adam", lambda ps: torch.optim.Adam(ps, lr=0.01))
run("adam_l2", lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.1))
run("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1))
run("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1))
run("sgd_mom", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01))
run("nesterov", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
g = torch.tensor([3.0, 4.0]); p = torch.nn.Parameter(torch.zeros(2)); p.grad = g.clone()
n = torch.nn.utils.clip_grad_norm_([p], 1.0); print("clip", repr(float(n)), [repr(float(x)) for x in p.grad])
print(torch.__version__)
