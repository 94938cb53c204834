"""Reports rendered from numbers the engine and the cohort rules computed: HTML, PDF and plots, never new figures.

``cohort``: the cohort report (HTML with inline SVG plots, PDF by WeasyPrint). Nothing is imported here, so
importing the package loads neither matplotlib nor WeasyPrint.
"""
