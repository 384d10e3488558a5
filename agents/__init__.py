"""strategy-gym: agents."""
