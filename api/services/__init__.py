"""Use cases, one module per area; each owns its transaction (``Database.write``)."""
