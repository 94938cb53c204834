"""Locale format overrides (settings.FORMAT_MODULE_PATH): what the app accepts as a typed date."""
