"""Layer 1, what to measure: profiles and their vocabulary, no TensorFlow (docs/how-it-works.md)."""
