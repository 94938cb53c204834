"""Adapters that turn other sources' headache records into diary days; the engine does the counting."""
