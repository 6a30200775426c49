#!/usr/bin/env python3
"""PyTorch twin of `hepml bench engine`: trains the four reference models of issue 2 on random
data on the CPU for one epoch after a warm-up epoch and prints, per model, the same figures as
HEPML (training samples/s, achieved GFLOP/s, peak RSS).

Threads: torch.set_num_threads(HEPML_NUM_THREADS or the number of usable cores), the count
HEPML uses. FLOPs are counted the same way as HEPML: 6 x forward multiply-accumulates of the
dense, convolution and transposed-convolution layers per sample.

Usage: python bench/torch_reference.py [--model NAME] [--samples N] [--seed S]
"""
import argparse
import os
import resource
import time

import torch
from torch import nn


def reference_model(name):
    """Returns (model, sample shape, batch size, default samples, is_classifier)."""
    if name == "dqm-ae":
        model = nn.Sequential(
            nn.Conv1d(1, 12, 3), nn.ReLU(),
            nn.Conv1d(12, 12, 3), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(12 * 96, 50), nn.ReLU(),
            nn.Linear(50, 50), nn.ReLU(),
            nn.Linear(50, 3),
            nn.Linear(3, 1200), nn.ReLU(),
            nn.Unflatten(1, (12, 100)),
            # Keras "same" with stride 1 and kernel 3 is padding 1.
            nn.ConvTranspose1d(12, 12, 3, padding=1), nn.ReLU(),
            nn.ConvTranspose1d(12, 1, 3, padding=1), nn.ReLU(),
        )
        return model, (1, 100), 128, 20000, False
    if name == "econt-ae":
        model = nn.Sequential(
            # TF "same" with stride 2 pads (0, 1); symmetric padding 1 gives the same 4x4 output and work.
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(128, 16), nn.ReLU(),
            nn.Linear(16, 128), nn.ReLU(),
            nn.Unflatten(1, (8, 4, 4)),
            nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, padding=1), nn.Sigmoid(),
        )
        return model, (1, 8, 8), 500, 20000, False
    if name == "event-ae":
        widths = [4, 200, 100, 50, 3, 50, 100, 200, 4]
        layers = []
        for i in range(len(widths) - 1):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(nn.Tanh())
        return nn.Sequential(*layers), (4,), 256, 20000, False
    if name == "ldmx-convnet":
        model = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(64 * 5 * 5, 500), nn.ReLU(),
            nn.Linear(500, 2),
        )
        return model, (3, 20, 20), 100, 5000, True
    raise ValueError(f"unknown model {name}")


def forward_macs(model, sample_shape):
    """Multiply-accumulates of one forward pass of one sample, layer by layer."""
    total = 0
    x = torch.zeros((1,) + tuple(sample_shape))
    model.eval()
    with torch.no_grad():
        for layer in model:
            y = layer(x)
            if isinstance(layer, nn.Linear):
                total += layer.in_features * layer.out_features
            elif isinstance(layer, (nn.Conv1d, nn.Conv2d)):
                total += layer.weight.numel() * y[0, 0].numel()
            elif isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d)):
                total += layer.weight.numel() * x[0, 0].numel()
            x = y
    model.train()
    return total


def train_epoch(model, optimizer, loss_fn, inputs, targets, batch_size, generator):
    order = torch.randperm(inputs.shape[0], generator=generator)
    for start in range(0, inputs.shape[0], batch_size):
        index = order[start:start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs[index]), targets[index])
        loss.backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["dqm-ae", "econt-ae", "event-ae", "ldmx-convnet"])
    parser.add_argument("--samples", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    threads = int(os.environ.get("HEPML_NUM_THREADS", "0")) or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    print(f"# torch {torch.__version__} CPU: {threads} threads, training throughput after one warm-up epoch")
    names = [args.model] if args.model else ["dqm-ae", "econt-ae", "event-ae", "ldmx-convnet"]
    for name in names:
        model, sample_shape, batch_size, default_samples, classifier = reference_model(name)
        count = args.samples or default_samples
        inputs = torch.rand((count,) + sample_shape)
        if classifier:
            targets = torch.randint(0, 2, (count,))
            loss_fn = nn.CrossEntropyLoss()
        else:
            targets = inputs
            loss_fn = nn.MSELoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(args.seed)
        model.train()
        train_epoch(model, optimizer, loss_fn, inputs, targets, batch_size, generator)
        start = time.perf_counter()
        train_epoch(model, optimizer, loss_fn, inputs, targets, batch_size, generator)
        seconds = time.perf_counter() - start
        flops = 6.0 * forward_macs(model, sample_shape) * count
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name:<13} samples/s {count / seconds:10.0f}  GFLOP/s {flops / seconds / 1e9:7.2f}  "
              f"peak-RSS-MiB {peak_mib:6.0f}  seconds {seconds:.3f}")


if __name__ == "__main__":
    main()
