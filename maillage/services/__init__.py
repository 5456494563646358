"""Services: one module per analysis, shared by the command line and the dashboard.

Each service follows the pattern of :class:`maillage.finder.Finder`:

* a frozen dataclass ``XxxRequest`` holding every input of one question, with a
  ``validated()`` method (or ``__post_init__``) that checks it **once**, in French
  (:class:`maillage.errors.MaillageError`), before anything heavy is loaded;
* a class ``XxxService`` whose ``load(settings)`` classmethod reads what the analysis
  needs through the data layer (``geo/`` readers and the stores) once per process, and
  whose ``run(request)`` calls the pure computations of ``analysis/`` and returns
* a dataclass ``XxxResult`` with typed fields and ``to_json()`` giving the plain,
  JSON-ready dict that ``maillage … --json`` prints.

The CLI command builds the request from its arguments, the page builds the same
request from its widgets; both call the same ``run`` and show the same result, so the
two front ends cannot drift. Services import ``analysis``, ``geo``, the stores and the
core (``maillage.settings``, ``maillage.errors``, ``maillage.fmt``); never ``ui``,
``streamlit`` or the CLI (the layer contract in ``pyproject.toml`` enforces it).
"""
