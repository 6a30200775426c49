// Tests for HEPMLColumnar: filled in by its own issue.
