"""Layer 2, the data: members and non-members from a source, validated once (docs/how-it-works.md)."""
