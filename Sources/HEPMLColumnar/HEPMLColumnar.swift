// HEPMLColumnar: filled in by its own issue.
