"""Layer 7, reporting: the terminal summary, results.json, index.html and plots (docs/how-it-works.md)."""
