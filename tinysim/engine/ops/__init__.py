"""One module per operator: `prepare` (Python, once per graph) and `evaluate` (Numba, per inference)."""
