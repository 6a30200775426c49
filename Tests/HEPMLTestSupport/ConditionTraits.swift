import Testing

/// Tests that need what a user's clone may lack say so: without it `swift test` lists them as
/// skipped, with `TestEnvironment.Missing`'s reason, instead of passing without checking anything.
extension Trait where Self == ConditionTrait {
    /// The test reads `../shared` (specs, C++ ROOT files, ECON-T data).
    public static var requiresShared: Self {
        .enabled(if: TestEnvironment.sharedDirectoryIfPresent != nil, Comment(rawValue: TestEnvironment.Missing.shared.description))
    }

    /// The test runs C++ ROOT (the PyPI package `root` in its own environment) as the judge.
    public static var requiresCppROOT: Self {
        .enabled(if: TestEnvironment.cppROOTPythonIfPresent != nil, Comment(rawValue: TestEnvironment.Missing.cppROOT.description))
    }

    /// The test runs the interop Python environment (numpy, pyarrow, uproot, scikit-learn, ONNX Runtime, …).
    public static var requiresPython: Self {
        .enabled(if: TestEnvironment.pythonIfPresent != nil, Comment(rawValue: TestEnvironment.Missing.python.description))
    }

    /// The test starts its own single-node Slurm (munged, slurmctld, slurmd): it needs root and
    /// the Debian packages slurm-wlm and munge.
    public static var requiresSlurm: Self {
        .enabled(if: TestEnvironment.slurmMissingReason == nil, Comment(rawValue: TestEnvironment.slurmMissingReason ?? ""))
    }
}
