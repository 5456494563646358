"""The registry of places: the national standard, validation, initial load, import/export, store.

Modules: :mod:`standard` (schema-driven fields and vocabularies), :mod:`hours` (OSM
opening hours), :mod:`location` (inside Martinique, which commune), :mod:`dedupe`,
:mod:`initial` (load from the mirrored sources, with an ETL report), :mod:`csvio`
(CSV/GeoJSON in the standard), :mod:`store` (reads and writes in the database),
:mod:`applications` (applications for the label: filing, review, decision, outbox).
"""
