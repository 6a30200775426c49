"""numpy peers of `hepml bench ldmx-images`: xyz images (dim×dim×3) from the flattened LDMX hit
table (spec B.2: tag, event, mass, x, y, z, E per row), built two ways on a subset of events:

1. numpy.histogramdd per event (three 2-D projections, the same fixed ranges as HEPML);
2. upstream's per-hit Python loop (AndGasp/LDMX `data_format.py::im_xyz`: argmin over a
   linspace lattice for every coordinate of every hit), with upstream's ±200 mm lattice.

    python ldmx_images_reference.py hits.npy --dim 20 --x LO HI --y LO HI --z LO HI

Prints one JSON line with events per second of each (extrapolated from the subsets)."""
import argparse
import json
import time

import numpy as np


def events_of(table):
    keys = table[:, 0] * 1e12 + table[:, 1]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.r_[starts, len(table)]


def histogramdd_images(table, bounds, dim, ranges):
    images = np.zeros((len(bounds) - 1, 3, dim, dim), dtype=np.float32)
    (xr, yr, zr) = ranges
    for event in range(len(bounds) - 1):
        hits = table[bounds[event]:bounds[event + 1]]
        x, y, z, e = hits[:, 3], hits[:, 4], hits[:, 5], hits[:, 6]
        images[event, 0] = np.histogramdd((x, y), bins=dim, range=(xr, yr), weights=e)[0]
        images[event, 1] = np.histogramdd((y, z), bins=dim, range=(yr, zr), weights=e)[0]
        images[event, 2] = np.histogramdd((z, x), bins=dim, range=(zr, xr), weights=e)[0]
    return images


def upstream_loop_images(table, bounds, dim):
    lattice = np.linspace(-200, 200, dim)
    images = np.zeros((len(bounds) - 1, dim, dim, 3), dtype=np.float32)
    for event in range(len(bounds) - 1):
        image = images[event]
        for row in table[bounds[event]:bounds[event + 1]]:
            ix = np.argmin(np.abs(lattice - row[3]))
            iy = np.argmin(np.abs(lattice - row[4]))
            iz = np.argmin(np.abs(lattice - row[5]))
            image[ix, iy, 0] += row[6]
            image[iy, iz, 1] += row[6]
            image[iz, ix, 2] += row[6]
    return images


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("hits")
    parser.add_argument("--dim", type=int, default=20)
    parser.add_argument("--x", type=float, nargs=2, required=True)
    parser.add_argument("--y", type=float, nargs=2, required=True)
    parser.add_argument("--z", type=float, nargs=2, required=True)
    parser.add_argument("--histogramdd-events", type=int, default=5000)
    parser.add_argument("--loop-events", type=int, default=500)
    args = parser.parse_args()
    table = np.load(args.hits)
    bounds = events_of(table)
    # Spread the subsets over signal and background alike.
    step = max(1, (len(bounds) - 1) // args.histogramdd_events)
    picks = np.arange(0, len(bounds) - 1, step)[: args.histogramdd_events]
    subset = np.concatenate([table[bounds[i]:bounds[i + 1]] for i in picks])
    sub_bounds = np.r_[0, np.cumsum([bounds[i + 1] - bounds[i] for i in picks])]
    start = time.perf_counter()
    histogramdd_images(subset, sub_bounds, args.dim, (args.x, args.y, args.z))
    hist_seconds = time.perf_counter() - start
    loop_count = min(args.loop_events, len(picks))
    start = time.perf_counter()
    upstream_loop_images(subset, sub_bounds[: loop_count + 1], args.dim)
    loop_seconds = time.perf_counter() - start
    result = {"histogramdd_events_per_second": len(picks) / hist_seconds,
              "upstream_loop_events_per_second": loop_count / loop_seconds}
    print(f"numpy histogramdd per event: {len(picks)} events in {hist_seconds:.2f} s = {result['histogramdd_events_per_second']:.0f} events/s")
    print(f"upstream per-hit loop:       {loop_count} events in {loop_seconds:.2f} s = {result['upstream_loop_events_per_second']:.0f} events/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
