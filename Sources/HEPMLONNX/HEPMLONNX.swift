// HEPMLONNX: filled in by its own issue.
