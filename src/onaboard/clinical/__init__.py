"""The clinical engine (filled in below)."""
