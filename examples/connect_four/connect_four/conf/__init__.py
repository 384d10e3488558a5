"""Hydra configs shipped with the plug-in (found through ``hydra_plugins/``)."""
