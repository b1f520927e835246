"""``python -m lagrace`` is the ``lagrace`` command."""

from lagrace.cli import run_main

run_main()
