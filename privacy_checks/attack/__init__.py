"""Layer 4, the attacks: scores to records, metrics and epsilon; no framework import (docs/how-it-works.md)."""
