"""Dates are typed as YYYY-MM-DD only (the date pickers send it). Django's English formats also
read 03/04/2026 as the 4th of March, which a clinic writing day/month/year would mean as the 3rd of April: a
date that can be read two ways is refused rather than guessed. Display formats stay Django's."""

DATE_INPUT_FORMATS = ["%Y-%m-%d"]
