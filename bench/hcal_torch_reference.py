#!/usr/bin/env python3
"""PyTorch twin of `hepml bench hcal`: the HE CNN+LSTM autoencoder (latent 8, window 5, batch 4
windows) on the full map (64 x 72) and with the minus/plus side split (14 x 72, two samples per
window), the same network as HEPML's `HCALModelOptions` spec layer for layer (window stacked on the
padded depth axis, Conv3d (3,3,1) + BatchNorm + LeakyReLU(0.5) + MaxPool3d(ceil) x 4, LSTM
80L->4L->L, repeat, LSTM L->4L->80L, strided ConvTranspose3d decoder). Trains one epoch of random
windows after a warm-up epoch; prints training windows/s, batch-1 inference latency (median) and
peak RSS.

Usage: python bench/hcal_torch_reference.py [--windows N] [--repetitions R] [--seed S]
"""
import argparse
import math
import os
import resource
import time

import torch
from torch import nn

LATENT, STEPS, PADDED_DEPTHS, LEVELS = 8, 5, 8, 4


class CNNLSTMAE(nn.Module):
    def __init__(self, eta):
        super().__init__()
        channels = 4 * LATENT
        sizes = [[eta, 72, PADDED_DEPTHS]]
        encoder, decoder = [], []
        for level in range(LEVELS):
            size = sizes[-1]
            kernel = [k - 1 if k % 2 == 0 else k for k in (min(size[0], 3), min(size[1], 3))] + [1]
            pool = [min(s, 2) for s in size]
            encoder += [nn.Conv3d(1 if level == 0 else channels, channels, kernel, padding=(kernel[0] // 2, kernel[1] // 2, 0), bias=False),
                        nn.BatchNorm3d(channels), nn.LeakyReLU(0.5), nn.MaxPool3d(pool, ceil_mode=True)]
            nxt = [math.ceil(s / p) for s, p in zip(size, pool)]
            sizes.append(nxt)
            up_kernel, padding, output_padding = [], [], []
            for axis in range(3):
                if pool[axis] == 1:
                    up_kernel.append(kernel[axis]); padding.append(kernel[axis] // 2); output_padding.append(0)
                elif axis == 2:
                    up_kernel.append(2); padding.append(0); output_padding.append(0)
                else:
                    up_kernel.append(3); padding.append(1); output_padding.append(size[axis] - (2 * nxt[axis] - 1))
            decoder.append([nn.ConvTranspose3d(channels, channels, up_kernel, stride=pool, padding=padding, output_padding=output_padding, bias=False),
                            nn.BatchNorm3d(channels), nn.LeakyReLU(0.5)])
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*[layer for level in reversed(decoder) for layer in level], nn.ConvTranspose3d(channels, 1, 1))
        self.bottom = sizes[-1]
        features = self.bottom[0] * self.bottom[1] * channels
        self.rnn1 = nn.LSTM(features, channels, batch_first=True)
        self.rnn2 = nn.LSTM(channels, LATENT, batch_first=True)
        self.rnn3 = nn.LSTM(LATENT, channels, batch_first=True)
        self.rnn4 = nn.LSTM(channels, features, batch_first=True)
        self.channels = channels

    def forward(self, x):
        h = self.encoder(x)                                   # [B, C, h, w, T]
        b = h.shape[0]
        seq = h.permute(0, 4, 2, 3, 1).reshape(b, STEPS, -1)  # [B, T, h*w*C]
        seq, _ = self.rnn1(seq)
        seq, _ = self.rnn2(seq)
        latent = seq[:, -1:, :].repeat(1, STEPS, 1)
        seq, _ = self.rnn3(latent)
        seq, _ = self.rnn4(seq)
        h = seq.reshape(b, STEPS, self.bottom[0], self.bottom[1], self.channels).permute(0, 4, 2, 3, 1)
        return self.decoder(h)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=24)
    parser.add_argument("--repetitions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    threads = int(os.environ.get("HEPML_NUM_THREADS", "0")) or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    print(f"# torch {torch.__version__} CPU: {threads} threads, HE CNN+LSTM AE, latent 8, window 5, batch 4 windows, training after one warm-up epoch")
    for name, eta, per_window, factor in (("full", 64, 1, 1), ("dc", 14, 2, 4)):
        model = CNNLSTMAE(eta)
        count = args.windows * factor
        data = torch.rand((count * per_window, 1, eta, 72, STEPS * PADDED_DEPTHS))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.MSELoss()
        batch = 4 * per_window

        def epoch():
            order = torch.randperm(data.shape[0])
            for start in range(0, data.shape[0], batch):
                x = data[order[start:start + batch]]
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(x), x).backward()
                optimizer.step()

        model.train()
        epoch()
        start = time.perf_counter()
        epoch()
        seconds = time.perf_counter() - start
        model.eval()
        one = data[:per_window]
        latencies = []
        with torch.no_grad():
            for _ in range(args.repetitions):
                begin = time.perf_counter()
                model(one)
                latencies.append(time.perf_counter() - begin)
        latencies.sort()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        parameters = sum(p.numel() for p in model.parameters())
        print(f"{name:<5} windows/s {count / seconds:8.2f}  batch-1-ms {latencies[len(latencies) // 2] * 1000:8.2f}  "
              f"peak-RSS-MiB {peak:6.0f}  parameters {parameters}")


if __name__ == "__main__":
    main()
