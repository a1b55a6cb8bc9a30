"""The data foodmatch ships: the postcode table, the sample region and the redaction word lists.

In the repository this is the top-level ``data/`` folder; installed, it is the package
``foodmatch_data``. Code reaches it through :func:`matching.geo.data_dir`, which asks
:mod:`importlib.resources` where the installed copy is. See README.md in this folder for what
each file is and where it comes from.
"""
