"""strategy-gym: sandbox."""
