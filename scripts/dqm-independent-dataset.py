#!/usr/bin/env python3
"""An offline-DQM data set that HEPML did not make, for testing `hepml dqm` (issue 18).

Written with uproot and numpy only, with shapes, binnings, subsystems and anomaly recipes of its
own (nothing is shared with HEPML's `SyntheticDQMDataset`), so that a method tuned on the demo
has to generalise to it. Layout as AutoDQM_ML's fetcher expects it:

  <out>/DQM_V0001_R000<run>__JetMET__Run2023B-PromptReco-v1__DQMIO.root
        DQMData/Run <run>/<subsystem>/Run summary/<folder>/<histogram>   (TH1D / TH2D)
  <out>/contents.json   {subsystem: [paths inside the subsystem directory]}
  <out>/datasets.json   primary dataset, year 2023: productions, eras, runs, good_runs, bad_runs
  <out>/truth.json      per run: label (0 good, 1 bad), anomaly kind or null, affected column

Seven histograms per run: two η distributions, a φ distribution, a timing peak, two pT spectra
and a 20×24 occupancy map. Good runs vary in statistics (log-normal luminosity), acceptance
edge, η curvature, φ modulation, timing position and width, spectrum slopes and map gradient.
Bad runs carry exactly one of six anomalies, each in one histogram:

  dead_phi_sector   muon φ: one of 12 sectors at 5 % efficiency
  hot_eta_bin       cluster η: one bin inside the acceptance at 4× its content
  timing_shift      cluster time: the peak moves by 0.6 bins
  gain_change       jet pT: exponential slope 25 → 21 GeV
  dead_map_region   occupancy map: a 3×3 block of cells reads nothing
  flat_noise        muon η: 8–15 % of the entries spread flat over the axis

Usage: dqm-independent-dataset.py --output-dir DIR [--runs 150] [--bad-runs 32] [--seed 1]
"""

import argparse
import json
import os

import numpy as np
import uproot

PRIMARY_DATASET = "JetMET"
YEAR = "2023"
ERA = "B"
FIRST_RUN = 367_100

# (column subsystem, entry inside the subsystem directory, kind, x edges[, y edges], entries at
# unit luminosity). The "Jet" entries have no leading slash, as AutoDQM_ML's dt.json spells them.
HISTOGRAMS = [
    ("Muon", "/Run summary/Kinematics/muEta", "mu_eta", np.linspace(-2.4, 2.4, 81), None, 120_000),
    ("Muon", "/Run summary/Kinematics/muPhi", "mu_phi", np.linspace(-np.pi, np.pi, 73), None, 120_000),
    ("Muon", "/Run summary/Kinematics/muPt", "mu_pt", np.linspace(0.0, 100.0, 81), None, 120_000),
    ("Calo", "/Run summary/Clusters/clusterEta", "cluster_eta", np.linspace(-3.0, 3.0, 61), None, 150_000),
    ("Calo", "/Run summary/Timing/clusterTime", "cluster_time", np.linspace(-10.0, 15.0, 101), None, 150_000),
    ("Jet", "Run summary/Spectra/jetPt", "jet_pt", np.linspace(20.0, 320.0, 61), None, 80_000),
    ("Tracker", "/Run summary/Occupancy/layer1EtaPhi", "occupancy", np.linspace(-2.5, 2.5, 21), np.linspace(-np.pi, np.pi, 25), 240_000),
]

ANOMALIES = {
    "dead_phi_sector": "mu_phi",
    "hot_eta_bin": "cluster_eta",
    "timing_shift": "cluster_time",
    "gain_change": "jet_pt",
    "dead_map_region": "occupancy",
    "flat_noise": "mu_eta",
}


def column_name(subsystem, entry):
    """AutoDQM_ML's column name: subsystem + "/" + entry, verbatim."""
    return subsystem + "/" + entry


def bin_averages(edges, density, samples=16):
    """Mean of `density` over each bin (midpoint rule on `samples` points per bin)."""
    low, high = edges[:-1], edges[1:]
    offsets = (np.arange(samples) + 0.5) / samples
    points = low[:, None] + (high - low)[:, None] * offsets[None, :]
    return density(points).mean(axis=1)


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


class Detector:
    """The fixed part of the detector: the per-cell response of the occupancy map."""

    def __init__(self, rng):
        nx, ny = len(HISTOGRAMS[6][3]) - 1, len(HISTOGRAMS[6][4]) - 1
        response = rng.uniform(0.85, 1.15, size=(nx, ny))
        response[rng.uniform(size=(nx, ny)) < 0.02] = 0.0  # permanently dead cells are normal
        self.map_response = response

    def expected(self, kind, x_edges, y_edges, run, anomaly):
        """Expected bin fractions (summing to 1) of one histogram in one run."""
        if kind == "mu_eta":
            edge = run["eta_edge"]
            shape = bin_averages(x_edges, lambda eta: (1.0 + run["eta_curvature"] * eta**2)
                                 * logistic((edge - np.abs(eta)) / 0.04)
                                 * (1.0 - 0.3 * np.exp(-0.5 * ((np.abs(eta) - 1.05) / 0.07) ** 2)))
            shape = shape / shape.sum()
            if anomaly["kind"] == "flat_noise":
                shape = (1.0 - anomaly["fraction"]) * shape + anomaly["fraction"] / shape.size
            return shape
        if kind == "mu_phi":
            phase = run["phi_phase"]
            shape = bin_averages(x_edges, lambda phi: 1.0 + run["phi_modulation"] * np.cos(phi - phase) + 0.02 * np.cos(12.0 * phi))
            if anomaly["kind"] == "dead_phi_sector":
                centers = 0.5 * (x_edges[:-1] + x_edges[1:])
                sector = np.floor((centers + np.pi) / (2.0 * np.pi / 12.0)).astype(int)
                shape = np.where(sector == anomaly["sector"], 0.05 * shape, shape)
            return shape / shape.sum()
        if kind == "mu_pt":
            shape = bin_averages(x_edges, lambda pt: logistic((pt - run["mu_turn_on"]) / 0.8) * (pt + 1.0) ** -run["mu_power"])
            return shape / shape.sum()
        if kind == "cluster_eta":
            width = run["cluster_width"]
            shape = bin_averages(x_edges, lambda eta: (np.exp(-0.5 * (eta / width) ** 2)
                                                       + 0.45 * np.exp(-0.5 * ((np.abs(eta) - 2.3) / 0.25) ** 2))
                                 * (1.0 - 0.5 * np.exp(-0.5 * ((np.abs(eta) - 1.5) / 0.05) ** 2))
                                 * logistic((2.85 - np.abs(eta)) / 0.03))
            if anomaly["kind"] == "hot_eta_bin":
                shape[anomaly["bin"]] *= 4.0
            return shape / shape.sum()
        if kind == "cluster_time":
            shift = 0.6 * (x_edges[1] - x_edges[0]) if anomaly["kind"] == "timing_shift" else 0.0
            mean, sigma = run["time_mean"] + shift, run["time_sigma"]

            def density(t):
                peak = np.exp(-0.5 * ((t - mean) / sigma) ** 2)
                tail = 0.12 * np.where(t > mean, np.exp(-(t - mean) / 3.0), 0.0) * logistic((t - mean) / 0.5)
                return peak + tail + run["time_floor"]

            shape = bin_averages(x_edges, density)
            return shape / shape.sum()
        if kind == "jet_pt":
            slope = 21.0 * run["jet_slope"] / 25.0 if anomaly["kind"] == "gain_change" else run["jet_slope"]
            shape = bin_averages(x_edges, lambda pt: logistic((pt - 32.0) / 2.5) * np.exp(-pt / slope))
            return shape / shape.sum()
        if kind == "occupancy":
            x = bin_averages(x_edges, lambda eta: 1.0 + run["map_gradient"] * eta + 0.25 * np.cos(np.pi * eta / 2.5))
            y = bin_averages(y_edges, lambda phi: 1.0 + 0.04 * np.sin(phi + run["phi_phase"]))
            shape = np.outer(x, y) * self.map_response
            if anomaly["kind"] == "dead_map_region":
                ix, iy = anomaly["cell"]
                shape[ix:ix + 3, iy:iy + 3] = 0.0
            return shape / shape.sum()
        raise ValueError(kind)


def run_conditions(rng):
    """The good-run variation of one run."""
    return {
        "luminosity": float(np.clip(rng.lognormal(0.0, 0.35), 0.3, 3.0)),
        "eta_edge": rng.normal(2.1, 0.01),
        "eta_curvature": rng.normal(0.12, 0.015),
        "phi_modulation": rng.normal(0.05, 0.01),
        "phi_phase": rng.normal(0.3, 0.1),
        "mu_turn_on": rng.normal(6.0, 0.1),
        "mu_power": rng.normal(3.0, 0.03),
        "cluster_width": rng.normal(1.8, 0.02),
        "time_mean": rng.normal(0.0, 0.02),
        "time_sigma": rng.normal(1.0, 0.015),
        "time_floor": rng.uniform(0.01, 0.03),
        "jet_slope": rng.normal(25.0, 0.25),
        "map_gradient": rng.normal(0.0, 0.02),
    }


def draw_anomaly(kind, rng, detector):
    """Where and how strongly the anomaly of `kind` hits."""
    if kind is None:
        return {"kind": None}
    if kind == "dead_phi_sector":
        return {"kind": kind, "sector": int(rng.integers(12))}
    if kind == "hot_eta_bin":
        return {"kind": kind, "bin": int(rng.integers(5, 55))}
    if kind == "flat_noise":
        return {"kind": kind, "fraction": float(rng.uniform(0.08, 0.15))}
    if kind == "dead_map_region":
        nx, ny = detector.map_response.shape
        return {"kind": kind, "cell": (int(rng.integers(nx - 2)), int(rng.integers(ny - 2)))}
    return {"kind": kind}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--bad-runs", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 0 <= args.bad_runs < args.runs:
        parser.error("--bad-runs must be in [0, --runs)")

    rng = np.random.default_rng(args.seed)
    detector = Detector(rng)
    runs = FIRST_RUN + np.cumsum(rng.integers(1, 5, size=args.runs))
    kinds = list(ANOMALIES)
    bad_positions = rng.permutation(args.runs)[: args.bad_runs]
    planted = {int(position): kinds[index % len(kinds)] for index, position in enumerate(bad_positions)}

    os.makedirs(args.output_dir, exist_ok=True)
    truth = []
    for position, run in enumerate(runs.tolist()):
        run_rng = np.random.default_rng([args.seed, position])
        conditions = run_conditions(run_rng)
        kind = planted.get(position)
        anomaly = draw_anomaly(kind, run_rng, detector)
        name = f"DQM_V0001_R000{run}__{PRIMARY_DATASET}__Run{YEAR}{ERA}-PromptReco-v1__DQMIO.root"
        with uproot.recreate(os.path.join(args.output_dir, name)) as file:
            for subsystem, entry, hist_kind, x_edges, y_edges, entries in HISTOGRAMS:
                fractions = detector.expected(hist_kind, x_edges, y_edges, conditions, anomaly if ANOMALIES.get(kind) == hist_kind else {"kind": None})
                counts = run_rng.poisson(fractions * entries * conditions["luminosity"]).astype(np.float64)
                path = "/".join(part for part in f"DQMData/Run {run}/{subsystem}/{entry}".split("/") if part)
                file[path] = (counts, x_edges) if y_edges is None else (counts, x_edges, y_edges)
        affected = next(column_name(s, e) for s, e, k, *_ in HISTOGRAMS if k == ANOMALIES[kind]) if kind else None
        truth.append({"run": run, "label": 1 if kind else 0, "anomaly": kind, "histogram": affected,
                      "luminosity": round(conditions["luminosity"], 4)})

    contents = {}
    for subsystem, entry, *_ in HISTOGRAMS:
        contents.setdefault(subsystem, []).append(entry)
    datasets = {
        "primary_datasets": [PRIMARY_DATASET],
        "years": {YEAR: {
            "productions": ["PromptReco"], "eras": [ERA],
            "runs": [str(r) for r in runs.tolist()],
            "good_runs": [str(t["run"]) for t in truth if t["label"] == 0],
            "bad_runs": [str(t["run"]) for t in truth if t["label"] == 1],
            "comments": f"independent DQM-like data set written with uproot (seed {args.seed})",
        }},
    }
    for name, value in (("contents.json", contents), ("datasets.json", datasets), ("truth.json", truth)):
        with open(os.path.join(args.output_dir, name), "w") as handle:
            json.dump(value, handle, indent=1)
    print(f"wrote {args.runs} runs ({args.bad_runs} bad) x {len(HISTOGRAMS)} histograms to {args.output_dir}")


if __name__ == "__main__":
    main()
