// HEPMLROOT: filled in by its own issue.
