"""Trusted helpers for the sandbox tests: probe runners that act as escaped code would."""
