"""Writes the optimizer and schedule fixtures, so the Rust tests need no
PyTorch: crates/googlenet-core/tests/fixtures/optimizers/<case>.safetensors.

Each case runs one torch.optim optimizer (and lr_scheduler composition) on
two small parameters (3x4 and 5) through a fixed sequence of random
gradients, one optimizer.step() and then one scheduler.step() per batch,
and records:

- init.0, init.1: the parameters before the first step;
- grads.0, grads.1: the gradient of every step (steps x shape);
- params.0, params.1: the parameters after every step;
- lrs (f64): the learning rate each step used;

and, in the metadata, the recipe in the keys a checkpoint keeps
(optimizer, lr, momentum, nesterov, weight_decay, beta1, beta2, eps,
schedule, step_epochs, step_gamma, warmup_epochs, warmup_start_factor)
plus epochs and batches (per epoch): the Rust test builds the same recipe
from them (tests/suite/optimizer.rs).

Schedules step per batch; lengths in epochs are turned into batches as
crates/googlenet-core/src/train/schedule.rs documents:

  step:    StepLR(step_size=step_epochs*B, gamma)
  cosine:  CosineAnnealingLR(T_max=(epochs-warmup_epochs)*B, eta_min=0)
  warm-up: LinearLR(start_factor, end_factor=1, total_iters=warmup_epochs*B),
           alone before a constant rate, else
           SequentialLR([LinearLR(...), decay], milestones=[warmup_epochs*B])

Run from the repository root:

  pip install torch safetensors numpy
  python3 scripts/make-optimizer-fixtures.py
"""
import math
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), '..', 'crates', 'googlenet-core', 'tests', 'fixtures', 'optimizers')
SHAPES = [(3, 4), (5,)]
EPOCHS, BATCHES = 6, 3

# name: (optimizer settings, schedule settings); the keys are the checkpoint's.
CASES = {
    'sgd_momentum': (dict(optimizer='sgd', lr=0.1, momentum=0.9), {}),
    'sgd_nesterov_weight_decay': (dict(optimizer='sgd', lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), {}),
    'sgd_weight_decay_no_momentum': (dict(optimizer='sgd', lr=0.05, momentum=0.0, weight_decay=0.1), {}),
    'adam': (dict(optimizer='adam', lr=0.01), {}),
    'adam_weight_decay_betas': (dict(optimizer='adam', lr=0.01, weight_decay=0.1, beta1=0.8, beta2=0.99, eps=1e-6), {}),
    'adamw': (dict(optimizer='adamw', lr=0.01), {}),
    'adamw_weight_decay': (dict(optimizer='adamw', lr=0.02, weight_decay=0.5), {}),
    'step': (dict(optimizer='sgd', lr=0.1, momentum=0.5), dict(schedule='step', step_epochs=2, step_gamma=0.5)),
    'cosine': (dict(optimizer='sgd', lr=0.1, momentum=0.5), dict(schedule='cosine')),
    'warmup_constant': (dict(optimizer='adam', lr=0.01), dict(schedule='constant', warmup_epochs=2, warmup_start_factor=0.25)),
    'warmup_step': (dict(optimizer='sgd', lr=0.1, momentum=0.9, nesterov=True),
                    dict(schedule='step', step_epochs=1, step_gamma=0.5, warmup_epochs=2, warmup_start_factor=0.25)),
    'warmup_cosine': (dict(optimizer='adamw', lr=0.01, weight_decay=0.05), dict(schedule='cosine', warmup_epochs=1)),
}


def make_optimizer(params, o):
    lr = o['lr']
    if o['optimizer'] == 'sgd':
        return torch.optim.SGD(params, lr=lr, momentum=o.get('momentum', 0.0), nesterov=o.get('nesterov', False),
                               weight_decay=o.get('weight_decay', 0.0))
    kind = torch.optim.Adam if o['optimizer'] == 'adam' else torch.optim.AdamW
    extra = {} if 'weight_decay' not in o else dict(weight_decay=o['weight_decay'])
    return kind(params, lr=lr, betas=(o.get('beta1', 0.9), o.get('beta2', 0.999)), eps=o.get('eps', 1e-8), **extra)


def make_scheduler(opt, s):
    name, warmup = s.get('schedule', 'constant'), s.get('warmup_epochs', 0) * BATCHES
    if name == 'step':
        decay = torch.optim.lr_scheduler.StepLR(opt, step_size=s['step_epochs'] * BATCHES, gamma=s['step_gamma'])
    elif name == 'cosine':
        decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS * BATCHES - warmup, eta_min=0.0)
    else:
        decay = None
    if warmup == 0:
        return decay
    linear = torch.optim.lr_scheduler.LinearLR(opt, start_factor=s.get('warmup_start_factor', 1.0 / 3.0), end_factor=1.0,
                                               total_iters=warmup)
    if decay is None:
        return linear
    return torch.optim.lr_scheduler.SequentialLR(opt, [linear, decay], milestones=[warmup])


def run(name, o, s, generator):
    init = [torch.randn(shape, generator=generator) for shape in SHAPES]
    steps = EPOCHS * BATCHES
    grads = [torch.randn((steps,) + shape, generator=generator) for shape in SHAPES]
    params = [torch.nn.Parameter(p.clone()) for p in init]
    opt = make_optimizer(params, o)
    sched = make_scheduler(opt, s)
    after, lrs = [[] for _ in SHAPES], []
    for t in range(steps):
        lrs.append(opt.param_groups[0]['lr'])
        for p, g in zip(params, grads):
            p.grad = g[t].clone()
        opt.step()
        if sched is not None:
            sched.step()
        for a, p in zip(after, params):
            a.append(p.detach().clone())
    tensors = {'lrs': torch.tensor(lrs, dtype=torch.float64)}
    for i in range(len(SHAPES)):
        tensors[f'init.{i}'] = init[i].contiguous()
        tensors[f'grads.{i}'] = grads[i].contiguous()
        tensors[f'params.{i}'] = torch.stack(after[i]).contiguous()
    metadata = {k: str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, float) else str(v)
                for k, v in {**o, **s}.items()}
    metadata.update(epochs=str(EPOCHS), batches=str(BATCHES), torch=torch.__version__)
    save_file(tensors, os.path.join(OUT, f'{name}.safetensors'), metadata=metadata)


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    for name, (o, s) in CASES.items():
        run(name, o, s, generator)
    print(f'wrote {len(CASES)} fixtures to {os.path.normpath(OUT)} with torch {torch.__version__}')


if __name__ == '__main__':
    main()
