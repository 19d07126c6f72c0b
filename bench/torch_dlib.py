#!/usr/bin/python3
"""The PyTorch peer of `vaelab bench`'s face-descriptor line: dlib's
face-recognition ResNet (the architecture of metrics/dlib.go; random weights,
the speed does not depend on them), float32 inference with TWO threads, on
the same input: batches of 64x64 grey images replicated to RGB and resized
bilinearly to 150x150. Prints one line:

  pytorch VERSION dlib BATCH IMAGES IMAGES/S GFLOP/S

  /usr/bin/python3 bench/torch_dlib.py --images 256
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = [(32, False), (32, False), (32, False),
          (64, True), (64, False), (64, False), (64, False),
          (128, True), (128, False), (128, False),
          (256, True), (256, False), (256, False), (256, True)]


class Block(nn.Module):
    def __init__(self, cin, cout, down):
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(cin, cout, 3, 2 if down else 1, 0 if down else 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)

    def forward(self, x):
        out = self.conv2(F.relu(self.conv1(x)))
        if self.down:
            short = F.avg_pool2d(x, 2, 2)
            dh, dw = short.shape[2] - out.shape[2], short.shape[3] - out.shape[3]
            out = F.pad(out, (0, dw, 0, dh))
            short = F.pad(short, (0, 0, 0, 0, 0, out.shape[1] - short.shape[1]))
        else:
            short = x
        return F.relu(out + short)


class DlibNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 7, 2, 0)
        blocks, cin = [], 32
        for cout, down in BLOCKS:
            blocks.append(Block(cin, cout, down))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 3, 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def flops(model, side=150):
    total = 0

    def hook(m, inp, out):
        nonlocal total
        total += 2 * out.numel() // out.shape[0] * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.inference_mode():
        model(torch.zeros(1, 3, side, side))
    for h in hs:
        h.remove()
    return total + 2 * 256 * 128


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = DlibNet().eval()
    grey = torch.rand(a.images, 1, 64, 64)

    def run():
        with torch.inference_mode():
            for s in range(0, a.images, a.batch):
                x = grey[s:s + a.batch].expand(-1, 3, -1, -1) * 255
                x = F.interpolate(x, size=(150, 150), mode="bilinear", align_corners=False)
                model((x - 120.0) / 255)
    run()  # warm-up
    start = time.perf_counter()
    run()
    sec = time.perf_counter() - start
    print(f"pytorch {torch.__version__} dlib {a.batch} {a.images} {a.images / sec:.1f} {flops(model) * a.images / sec / 1e9:.2f}")


if __name__ == "__main__":
    main()
