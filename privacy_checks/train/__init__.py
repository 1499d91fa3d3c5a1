"""Layer 3, training: the one place that knows the ML framework (docs/how-it-works.md)."""
