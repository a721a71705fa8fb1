"""One optimiser step of training, eager on the CPU and captured as a CUDA graph on a GPU.

At batch 512 and width 128 a step is about a hundred tiny kernels: on an H100 their launches, not
the arithmetic, set the time (about 2 ms a step, no faster than a 2-core CPU). Replaying the step
captured once as a CUDA graph costs one launch. The captured step draws its batch, noise and times
from the same seeded generator (registered with the graph) and reads the learning rate from a
device tensor, so the schedule still applies. If capture fails for any reason the eager step is
used instead.

    step = make_step(net, compute_loss, lr, betas, device, generator)
    loss = step(lr_now)            # () tensor; the parameters are updated
"""
from __future__ import annotations

import warnings
from typing import Callable

import torch

LossFn = Callable[[], torch.Tensor]


def make_step(net: torch.nn.Module, compute_loss: LossFn, lr: float, betas: tuple[float, float],
              device: torch.device, generator: torch.Generator, graph: bool = True) -> Callable[[float], torch.Tensor]:
    """`step(lr_now) -> loss`: one Adam step on `compute_loss()` (which draws its own batch)."""
    if device.type == "cuda" and graph:
        try:
            return _graphed(net, compute_loss, lr, betas, device, generator)
        except Exception as e:  # a torch without graph support for this case: eager is correct, only slower
            warnings.warn(f"CUDA graph capture failed ({type(e).__name__}: {e}); training step runs eagerly",
                          RuntimeWarning, stacklevel=2)
    return _eager(net, compute_loss, lr, betas, device)


def _eager(net, compute_loss, lr, betas, device):
    if device.type == "cpu":
        try:
            return _functional(net, compute_loss, betas)
        except Exception:  # a torch whose functional Adam differs: the optimiser class is the same math
            pass
    return _with_class(net, compute_loss, lr, betas, device)


def _with_class(net, compute_loss, lr, betas, device):
    """The step with a `torch.optim.Adam` object (fused on CUDA, foreach elsewhere)."""
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=betas,
                           **({"fused": True} if device.type == "cuda" else {"foreach": True}))

    def step(lr_now: float) -> torch.Tensor:
        for group in opt.param_groups:
            group["lr"] = lr_now
        loss = compute_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def _functional(net, compute_loss, betas):
    """torch's own Adam update (torch.optim.adam.adam, what `Adam.step` calls, foreach) on state
    kept here. Constructing a `torch.optim.Adam` imports torch._dynamo (its methods are wrapped in
    `torch._disable_dynamo`): 1.1-1.5 s, a third of a default CPU training run in a fresh process
    (the CLI's). Gradients come from autograd.grad, so there is no .grad to zero.

    Adam is elementwise, so it runs on one flat tensor: the parameters become views into `flat`
    and each step concatenates the gradients once. The same numbers as ten per-tensor updates,
    in one set of kernels instead of ten (the foreach update was ~8% of a CPU step)."""
    from torch.optim.adam import adam

    params = [p for p in net.parameters() if p.requires_grad]
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1) for p in params])
        offset = 0
        for p in params:
            p.data = flat[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
    exp_avg, exp_avg_sq, count = torch.zeros_like(flat), torch.zeros_like(flat), torch.tensor(0.0)
    options = dict(foreach=True, capturable=False, differentiable=False, fused=None, grad_scale=None,
                   found_inf=None, has_complex=False, amsgrad=False, beta1=betas[0], beta2=betas[1],
                   weight_decay=0.0, eps=1e-8, maximize=False)

    def step(lr_now: float) -> torch.Tensor:
        loss = compute_loss()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            adam([flat], [torch.cat([g.reshape(-1) for g in grads])], [exp_avg], [exp_avg_sq], [], [count],
                 lr=lr_now, **options)
        return loss

    # one dry call: this torch's functional Adam takes these arguments (else the class is used)
    with torch.no_grad():
        adam([torch.zeros(1)], [torch.ones(1)], [torch.zeros(1)], [torch.zeros(1)], [], [torch.tensor(0.0)],
             lr=0.0, **options)
    return step


def _graphed(net, compute_loss, lr, betas, device, generator):
    params = list(net.parameters())
    start = [p.detach().clone() for p in params]
    rng = generator.get_state()
    lr_t = torch.tensor(float(lr), dtype=torch.float32, device=device)
    opt = torch.optim.Adam(params, lr=lr_t, betas=betas, fused=True, capturable=True)
    # warm up on a side stream (as PyTorch's whole-network capture recipe asks), then undo it so the
    # captured run starts where the eager one would: same weights, fresh Adam state, same RNG
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            compute_loss().backward()
            opt.step()
    torch.cuda.current_stream(device).wait_stream(side)
    with torch.no_grad():
        for p, p0 in zip(params, start):
            p.copy_(p0)
        for state in opt.state.values():
            for v in state.values():
                if torch.is_tensor(v):
                    v.zero_()
    generator.set_state(rng)
    graph = torch.cuda.CUDAGraph()
    graph.register_generator_state(generator)
    opt.zero_grad(set_to_none=True)
    # thread_local: the window samples for display on another thread while this one captures
    with torch.cuda.graph(graph, capture_error_mode="thread_local"):
        static_loss = compute_loss()
        static_loss.backward()
        opt.step()

    def step(lr_now: float) -> torch.Tensor:
        lr_t.fill_(lr_now)
        graph.replay()
        return static_loss.clone()  # the next replay overwrites static_loss

    return step
