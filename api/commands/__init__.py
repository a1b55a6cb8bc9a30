"""Command groups of the ``foodmatch`` CLI, one module per area."""
