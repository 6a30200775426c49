#!/usr/bin/env python3
"""PyTorch twin of `hepml bench compress-train`: HEPAutoencoders' AE_bn_LeakyReLU (spec A.6: each
layer Linear -> LeakyReLU(0.01) -> BatchNorm1d, the last decoder layer a plain Linear; default
nodes 27,200,200,200,14,200,200,200,27) trained with MSE, fastai's Adam (betas 0.95/0.99 with the
one-cycle inverse momentum, decoupled weight decay 1e-2 except on batch norms and biases, as
fastai v1's bn_wd=False) and the one-cycle learning rate (OneCycleLR with fastai's div factors) over
both epochs, on seeded normal data, shuffled each epoch, batches taken by tensor indexing (no
per-sample DataLoader). One warm-up epoch, then one timed epoch; prints samples/s, the timed
epoch's mean training loss, peak RSS and a JSON line for `hepml bench compress-train --python`.

Usage: python bench/compress_torch_reference.py [--nodes 27,200,...] [--batch-size 4096] [--samples N] [--seed S]
Threads: HEPML_NUM_THREADS (as HEPML), else every available core.
"""
import argparse
import json
import os
import resource
import time

import torch
from torch import nn


def ae_bn_leaky_relu(nodes):
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(nodes, nodes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(nodes) - 2:
            layers += [nn.LeakyReLU(0.01), nn.BatchNorm1d(fan_out)]
    return nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="27,200,200,200,14,200,200,200,27")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--samples", type=int, default=20 * 4096)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    threads = int(os.environ.get("HEPML_NUM_THREADS", "0")) or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    nodes = [int(n) for n in args.nodes.split(",")]
    model = ae_bn_leaky_relu(nodes)
    undecayed = [p for m in model.modules() if isinstance(m, nn.BatchNorm1d) for p in m.parameters()]
    undecayed += [m.bias for m in model.modules() if isinstance(m, nn.Linear)]
    others = [p for p in model.parameters() if all(p is not q for q in undecayed)]
    optimizer = torch.optim.AdamW([{"params": others, "weight_decay": 1e-2}, {"params": undecayed, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.95, 0.99), eps=1e-8)
    steps = 2 * ((args.samples + args.batch_size - 1) // args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=steps, pct_start=0.3, div_factor=25.0,
                                                   final_div_factor=1e4, base_momentum=0.85, max_momentum=0.95)
    data = torch.randn(args.samples, nodes[0], generator=torch.Generator().manual_seed(args.seed))
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(args.seed)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"# torch {torch.__version__} CPU: {threads} threads, AE_bn_LeakyReLU {args.nodes} ({parameters} parameters), "
          f"batch {args.batch_size}, {args.samples} samples, the second of two epochs timed")

    def epoch():
        model.train()
        order = torch.randperm(args.samples, generator=generator)
        total = 0.0
        for start in range(0, args.samples, args.batch_size):
            batch = data[order[start:start + args.batch_size]]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        return total / args.samples

    epoch()
    start = time.perf_counter()
    loss = epoch()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch samples/s {args.samples / seconds:10.0f}  peak-RSS-MiB {peak:6.0f}  seconds {seconds:.3f}  epoch-loss {loss:.4g}")
    print(json.dumps({"samples_per_second": args.samples / seconds, "seconds": seconds, "peak_rss_mib": peak, "threads": threads}))


if __name__ == "__main__":
    main()
