#!/usr/bin/python3
"""The PyTorch peer of `vaelab bench`: the same two VAEs, trained the same way
(float32, Adam, Bernoulli likelihood, β = 1, one reparameterised sample), on
fixed random data, with --threads intra-op threads (default 1), printing a row
of the same table followed by the threads it ran with and the wall-clock
start and end (Unix seconds) of its measured steps, which tell how copies run
side by side overlapped.

  /usr/bin/python3 bench/torch_vae.py --model conv --steps 20 --threads 2

(a) mlp:  560-400-20 on 28x20 images, batch 100
(b) conv: 64x64x3, encoder 32-64-128-256 with 4x4 stride-2 convolutions,
          latent 64, mirrored ConvTranspose2d decoder, batch 64
"""
import argparse
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLPVAE(nn.Module):
    def __init__(self, d=560, h=400, latent=20):
        super().__init__()
        self.enc, self.mu, self.logvar = nn.Linear(d, h), nn.Linear(h, latent), nn.Linear(h, latent)
        self.dec, self.out = nn.Linear(latent, h), nn.Linear(h, d)

    def forward(self, x, eps):
        h = F.relu(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.out(F.relu(self.dec(z))), mu, logvar


class ConvVAE(nn.Module):
    def __init__(self, c=3, side=64, widths=(32, 64, 128, 256), latent=64):
        super().__init__()
        layers, prev = [], c
        for w in widths:
            layers += [nn.Conv2d(prev, w, 4, 2, 1), nn.ReLU()]
            prev = w
        self.enc = nn.Sequential(*layers)
        self.side = side // 2 ** len(widths)
        flat = prev * self.side * self.side
        self.mu, self.logvar, self.tomap = nn.Linear(flat, latent), nn.Linear(flat, latent), nn.Linear(latent, flat)
        layers = []
        for i in range(len(widths) - 1, 0, -1):
            layers += [nn.ConvTranspose2d(widths[i], widths[i - 1], 4, 2, 1), nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[0], c, 4, 2, 1)]
        self.dec = nn.Sequential(*layers)
        self.widths = widths

    def forward(self, x, eps):
        h = self.enc(x).flatten(1)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        fm = F.relu(self.tomap(z)).view(-1, self.widths[-1], self.side, self.side)
        return self.dec(fm).flatten(1), mu, logvar


def step_flops(model, batch):
    """Multiply-adds of every linear map and convolution, ×2 for FLOPs, ×3 for
    forward plus backward: the count vaelab's Model.StepFLOPs makes."""
    macs, hooks = 0, []

    def count(mod, inp, out):
        nonlocal macs
        if isinstance(mod, nn.Linear):
            macs += mod.weight.numel() * inp[0].shape[0]
        elif isinstance(mod, nn.Conv2d):
            macs += mod.weight.numel() * out.shape[0] * out.shape[2] * out.shape[3]
        elif isinstance(mod, nn.ConvTranspose2d):
            macs += mod.weight.numel() * inp[0].shape[0] * inp[0].shape[2] * inp[0].shape[3]

    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            hooks.append(m.register_forward_hook(count))
    return count, hooks, lambda: 3 * 2 * macs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "conv"], required=True)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (torch.set_num_threads)")
    p.add_argument("--start-at", type=float, default=0, help="Unix time at which to start the timed steps (copies side by side)")
    a = p.parse_args()
    if a.threads < 1:
        p.error(f"--threads: {a.threads} must be at least 1")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.model == "mlp":
        model, batch, shape, latent = MLPVAE(), 100, (100, 560), 20
    else:
        model, batch, shape, latent = ConvVAE(), 64, (64, 3, 64, 64), 64
    x = torch.rand(shape)
    eps = torch.randn(batch, latent)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        logits, mu, logvar = model(x, eps)
        recon = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="sum") / batch
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum() / batch
        (recon + kl).backward()
        opt.step()

    _, hooks, flops = step_flops(model, batch)
    step()  # warm up, and count the FLOPs of one step
    per_step = flops()
    for h in hooks:
        h.remove()
    if a.start_at > 0:  # copies side by side start their timed steps together
        time.sleep(max(0.0, a.start_at - time.time()))
    start, t0 = time.time(), time.perf_counter()
    for _ in range(a.steps):
        step()
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'pytorch ' + torch.__version__:<22} {a.model:<5} {batch:>5} {a.steps:>5} {batch * a.steps / sec:>10.1f} "
          f"{per_step * a.steps / sec / 1e9:>8.2f} {'-':>12} {peak:>9.0f} "
          f"{torch.get_num_threads():>3} {start:.6f} {start + sec:.6f}")


if __name__ == "__main__":
    main()
