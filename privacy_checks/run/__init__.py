"""Layer 5, running: trainings and attacks on an executor, once each, cached (docs/how-it-works.md)."""
