"""A small image project gated by privacy_checks: a Keras functional-API CNN with batch normalisation and dropout."""
