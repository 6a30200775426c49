// HEPMLPlot: filled in by its own issue.
