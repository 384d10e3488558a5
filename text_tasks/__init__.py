"""strategy-gym: text_tasks."""
