"""The catalogue of consensus-race scenarios, as package data (``*.toml``; docs/scenarios.md).

Read with :func:`lagrace.suite.catalogue.load_catalogue`; each file is a scenario
(docs/scenario.md) with a ``[catalogue]`` table of its own.
"""
