// Tests for hepmlCLI: filled in by its own issue.
