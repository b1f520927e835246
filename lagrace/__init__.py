"""lagrace: an asyncio load-and-race driver for Qdrant consensus races.

The public surface is small: the CLI (``lagrace``), the run directory it writes, and the
building blocks re-exported here for scripts built on lagrace.
"""

__version__ = "0.1.0"
