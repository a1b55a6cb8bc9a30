"""The council's directory: import Open Referral UK feeds and spreadsheets, publish ORUK 3.0.

``router`` (HTTP) and ``api.commands.directory`` (CLI) are thin; ``service`` owns the
import's transaction (its steps in ``importing``) and ``publish`` the public reads;
``mapping`` is the one place that knows both ORUK objects and sites, ``sources`` reads files
and feeds, ``repository`` holds the queries and ``tables`` the directory's own state.
``data/`` carries the ORUK 3.0 schemata (BSD-3) and the published vocabulary.
"""
