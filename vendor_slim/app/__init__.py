"""Application layer: one module per command; each loads its inputs, runs engine and target steps, returns results."""
