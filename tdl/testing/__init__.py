"""Test-only helpers: real-architecture networks with random weights (`random_models`)."""
