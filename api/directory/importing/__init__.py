"""One directory import, in steps that share its state and transaction.

``state`` (what the steps share), ``charities`` (who runs the sites), ``capacity`` (a
spreadsheet's figures) and ``sites`` (:class:`~api.directory.importing.sites.SiteImport`,
which runs the import). ``api.directory.service.import_source`` is the entry point.
"""
