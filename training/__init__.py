"""strategy-gym: training."""
