"""The clinic's own cohort page: the registry report over its patients."""
