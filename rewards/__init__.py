"""strategy-gym: rewards."""
