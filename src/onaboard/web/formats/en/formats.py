"""Dates are typed as YYYY-MM-DD, and a time after one as HH:MM (the pickers send these). Django's English formats
also read 03/04/2026 as the 4th of March, which a clinic writing day/month/year would mean as the 3rd of April: a
date that can be read two ways is refused rather than guessed. Display formats stay Django's."""

DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
"""Date and time the same way (a picker's 2026-04-03T10:00 is read by Django's ISO parser before these)."""
