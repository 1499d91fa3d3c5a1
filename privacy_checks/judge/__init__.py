"""Layer 6, judging: baselines, tolerances, verdicts, DP guarantees (docs/how-it-works.md)."""
