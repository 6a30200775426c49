// HEPMLNN: filled in by its own issue.
