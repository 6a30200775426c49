#!/usr/bin/env python3
"""What any per-channel, per-LS detector can reach on an `hepml hcal prepare` data set: the
counting-statistics limit behind the TPR at FPR 1e-3 of `hepml hcal evaluate` (docs/hcal.md,
"Measured").

For every active channel of every third test LS, the expected count lambda is taken from the
channel's occupancy/NumEvents in its +-8 neighbouring test LS (not the LS itself) times the LS's
NumEvents, i.e. a detector that knows each channel's healthy rate almost exactly. A channel is
scored by the two-sided Poisson p-value of its count (exact test) and by |count - lambda| /
sqrt(lambda) (Gaussian z). The threshold is the healthy scores' 1 - 1e-3 quantile; the positives
are the same channels with the count set to 0 (Rd 0, dead) or doubled (Rd 2, hot), channels with
a zero count left out as `evaluate` does. Prints both TPRs per strength and the TPR per lambda bin.

Usage: python bench/hcal_poisson_limit.py DATASET_DIR   (numpy, pyarrow, scipy)
"""
import sys

import numpy as np
import pyarrow.parquet as pq
from scipy.stats import poisson

NEIGHBOURS, STRIDE, FPR = 8, 3, 1e-3


def main(directory):
    table = pq.read_table(f"{directory}/lumisections.parquet").to_pandas()
    mask = np.load(f"{directory}/mask.npy").astype(bool)
    healthy = {"p-value": [], "z": []}
    positives = {(kind, strength): [] for kind in healthy for strength in (0.0, 2.0)}
    expected = []
    for run in sorted(table.run.unique()):
        rows = table[table.run == run]
        test = np.flatnonzero(rows.split.values == "test")
        events = rows.num_events.values.astype(float)
        maps = np.load(f"{directory}/maps/Run{run}.npy", mmap_mode="r")
        rates = np.asarray(maps[test[0]:test[-1] + 1])[:, mask]
        counts = np.rint(rates * events[test, None])
        for i in range(NEIGHBOURS, len(test) - NEIGHBOURS, STRIDE):
            neighbours = np.r_[i - NEIGHBOURS:i, i + 1:i + NEIGHBOURS + 1]
            lam = np.maximum(rates[neighbours].mean(0) * events[test[i]], 1e-3)

            def p_value(count):
                tails = np.minimum(poisson.sf(count - 1, lam), poisson.cdf(count, lam))
                return -np.log(np.minimum(2 * tails, 1) + 1e-300)

            def z(count):
                return np.abs(count - lam) / np.sqrt(lam)

            present = counts[i] > 0
            for kind, score in (("p-value", p_value), ("z", z)):
                healthy[kind].append(score(counts[i]))
                for strength in (0.0, 2.0):
                    positives[(kind, strength)].append(score(strength * counts[i])[present])
            expected.append(lam[present])
    lam = np.concatenate(expected)
    for kind in healthy:
        threshold = np.quantile(np.concatenate(healthy[kind]), 1 - FPR)
        for strength in (0.0, 2.0):
            detected = np.concatenate(positives[(kind, strength)]) > threshold
            bins = {f"{a}-{b}": round(float(detected[(lam >= a) & (lam < b)].mean()), 3)
                    for a, b in ((0, 5), (5, 10), (10, 15), (15, 25), (25, 50), (50, np.inf))}
            print(f"{kind:8s} Rd {strength}: TPR {detected.mean():.3f} at FPR {FPR:g}; by expected count {bins}")
    print(f"expected counts of the positives: 5/25/50 % quantiles {np.quantile(lam, [0.05, 0.25, 0.5]).round(1)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
