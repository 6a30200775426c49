// HEPMLDQM: filled in by its own issue.
