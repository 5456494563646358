"""Indicators of the five solutions: tables, validation, import/export, store, charts, report.

Modules: :mod:`models` (tables), :mod:`csvio` (CSV templates, reading, validation,
export), :mod:`store` (reads and writes in the database, figures from the registry and
the van tours), :mod:`charts` (plotly figures), :mod:`report` (yearly HTML report).
The aggregation itself is pure and lives in :mod:`analysis.indicators`.
"""
