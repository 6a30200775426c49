// HEPMLECONT: filled in by its own issue.
