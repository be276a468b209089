"""Real-world-shaped mail (see manifest.json); big.py builds the one too large to keep in git."""
