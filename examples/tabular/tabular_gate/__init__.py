"""A small tabular project gated by privacy_checks: a Keras MLP on scikit-learn's breast cancer data."""
