"""The foodmatch service: HTTP API, persistence, pages and the command line."""
