"""The bottom layer: vocabulary every other package shares (outcomes, messages, statistics)."""
