"""Package discovery that pyproject.toml cannot express on its own.

The repository keeps its shipped data in the top-level ``data/`` folder; installed, that folder
is the package ``foodmatch_data`` (``package_dir`` maps the name to the folder, so nothing named
``data`` lands in site-packages). pyproject.toml takes either a fixed list of packages or a
search, not both, so the search for ``matching`` and ``api`` and the one mapped package are
joined here. Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["matching*", "api*"]), "foodmatch_data"],
    package_dir={"foodmatch_data": "data"},
)
