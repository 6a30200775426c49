#!/usr/bin/env python3
"""pyarrow peer of `hepml bench columnar`.

Loads the very file that `hepml bench columnar` wrote (untimed), then times pyarrow writing it
with ZSTD and reading it back, best of N, so both tools work on identical data.
Usage: pyarrow_reference.py [FILE] [--repeats N]
"""
import argparse
import os
import resource
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", default="out/bench-columnar/hepml_columnar.parquet")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    table = pq.read_table(args.file)
    histograms = [f for f in table.schema if pa.types.is_list(f.type)]
    rows = table.num_rows
    bins = len(table.column(histograms[0].name)[0]) if rows else 0
    payload = rows * len(histograms) * bins * 4 / 1e6

    out = os.path.join(tempfile.mkdtemp(prefix="pyarrow-bench-"), "pyarrow_columnar.parquet")
    write = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        pq.write_table(table, out, compression="zstd")
        write = min(write, time.perf_counter() - start)
    read = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        back = pq.read_table(out)
        read = min(read, time.perf_counter() - start)
    assert back.equals(table)
    size = os.path.getsize(out)
    threads = pa.cpu_count()
    print(f"pyarrow {pa.__version__} columnar: {rows} runs x {len(histograms)} list<float>[{bins}], ZSTD, {threads} threads")
    print(f"  write  {write:.3f} s  {payload / write:7.1f} MB/s")
    print(f"  read   {read:.3f} s  {payload / read:7.1f} MB/s")
    print(f"  file   {size / 1e6:.2f} MB (histogram payload {payload:.1f} MB)")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
