"""Cohort analytics: the engine's rules over a whole registry, as Ibis expressions run by DuckDB or Spark.

- ``rules``: day classification, 28-day periods, the chronic-migraine, medication-overuse and label verdicts,
  outcomes after treatment (responders, NICE TA260) and adverse-event incidence, written once as Ibis
  expressions; every threshold is imported from ``onaboard.clinical``.
- ``backends``: a DuckDB connection (the embedded default, reading Parquet directly) or a Spark one.
- ``report``: the cohort report's numbers (responders with Wilson intervals, change per period, time to
  response, adverse events against the label, overuse, stopping reasons, PROMs).
- ``synth``: a seeded, vectorised synthetic cohort calibrated to the figures in ``calibration.toml``.
- ``tables``: the five tables' Parquet schemas and conversions to and from the engine's diary.
- ``cli``: ``onaboard synth`` and ``onaboard cohort report``.

Nothing is imported here, so ``import onaboard.cli`` loads neither Ibis nor numpy nor PySpark; import the module
you need.
"""
