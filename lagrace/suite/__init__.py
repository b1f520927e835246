"""``lagrace suite``: the catalogue of consensus-race scenarios and its per-version matrix
(docs/scenarios.md).

Pure core: :mod:`~lagrace.suite.catalogue` (the shipped ``lagrace/scenarios/*.toml``, parsed
and validated), :mod:`~lagrace.suite.found` (what a run found: its cell of the matrix),
:mod:`~lagrace.suite.matrix` (the matrix, its JSON and Markdown, the comparison of two).
Shell: :mod:`~lagrace.suite.runner` (one ``lagrace run`` per scenario and repetition, a clean
cluster between them, the suite directory).
"""

from lagrace.suite.catalogue import CatalogueEntry, load_catalogue, parse_entry, select
from lagrace.suite.found import Cell, classify, kinds_of
from lagrace.suite.matrix import Matrix, build_matrix, compare

__all__ = [
    "CatalogueEntry",
    "Cell",
    "Matrix",
    "build_matrix",
    "classify",
    "compare",
    "kinds_of",
    "load_catalogue",
    "parse_entry",
    "select",
]
