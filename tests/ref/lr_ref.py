# lr_ref.py - reference learning rates for tests/check_train.c, from PyTorch's documented
# formulas (torch.optim.lr_scheduler, the closed forms of StepLR, ExponentialLR,
# CosineAnnealingLR, LinearLR; SequentialLR's milestones; ReduceLROnPlateau's step rule),
# written out here without PyTorch. Run: python3 tests/ref/lr_ref.py
import math

def step_lr(base, e, step_size, gamma):
    return base * gamma ** (e // step_size)

def exp_lr(base, e, gamma):
    return base * gamma ** e

def cos_lr(base, e, t_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2

def lin_lr(base, e, start, end, total):
    return base * (start + (end - start) * min(e, total) / total)

def seq_lr(base, e):  # LinearLR(0.1, 1.0, 5) for 5 steps, then CosineAnnealingLR(10, 0.001)
    return lin_lr(base, e, 0.1, 1.0, 5) if e < 5 else cos_lr(base, e - 5, 10, 0.001)

print("step   ", ["%.17g" % step_lr(0.1, e, 3, 0.5) for e in range(8)])
print("exp    ", ["%.17g" % exp_lr(0.1, e, 0.9) for e in (0, 1, 5, 20)])
print("cos    ", ["%.17g" % cos_lr(0.1, e, 10, 0.001) for e in (0, 3, 5, 10, 13)])
print("linear ", ["%.17g" % lin_lr(0.1, e, 0.25, 1.0, 4) for e in range(6)])
print("seq    ", ["%.17g" % seq_lr(0.1, e) for e in (0, 2, 4, 5, 10, 15)])

# ReduceLROnPlateau(mode='min', factor=0.5, patience=2, threshold=1e-4, threshold_mode='rel',
# cooldown=1, min_lr=0.01, eps=1e-8), starting at lr 0.1
lr, best, bad, cool = 0.1, math.inf, 0, 0
out = []
for metric in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]:
    if metric < best * (1 - 1e-4):
        best, bad = metric, 0
    else:
        bad += 1
    if cool > 0:
        cool -= 1
        bad = 0
    if bad > 2:
        new = max(lr * 0.5, 0.01)
        if lr - new > 1e-8:
            lr = new
        cool, bad = 1, 0
    out.append(lr)
print("plateau", ["%.17g" % v for v in out])
