"""Live progress of a run: a rich live line on a terminal, plain lines otherwise.

``format_progress`` is pure; the displays only decide where and how often it is printed.
Progress goes to stderr so that stdout carries only the timeline and the verdict.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Final, Protocol, Self

from rich.console import Console
from rich.live import Live
from rich.text import Text

from lagrace.race.context import Progress

PLAIN_EVERY_S: Final = 5.0


def format_progress(p: Progress) -> str:
    """``race  12.3 s (107.7 s left)  upserts 420 ok 410 failed 10  1234 events``."""
    return (
        f"{p.phase:<8} {p.elapsed_s:6.1f} s ({p.remaining_s:5.1f} s left)  "
        f"upserts {p.sent} ok {p.ok} failed {p.failed}  {p.detail}"
    )


class ProgressDisplay(Protocol):
    """Receives progress snapshots while a run is going."""

    def update(self, progress: Progress) -> None:
        """Show ``progress``."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class QuietDisplay:
    """Shows nothing."""

    def update(self, progress: Progress) -> None:
        """Ignore ``progress``."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class PlainDisplay:
    """One plain line every few seconds (for logs and pipes)."""

    def __init__(self) -> None:
        self._last_s: float | None = None

    def update(self, progress: Progress) -> None:
        """Print a line when ``PLAIN_EVERY_S`` of run time passed since the last one."""
        if self._last_s is None or progress.elapsed_s - self._last_s >= PLAIN_EVERY_S:
            self._last_s = progress.elapsed_s
            print(format_progress(progress), file=sys.stderr, flush=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class LiveDisplay:
    """A rich live status line on the terminal."""

    def __init__(self) -> None:
        self._live = Live(
            Text("starting..."), console=Console(stderr=True), transient=True, refresh_per_second=4
        )

    def update(self, progress: Progress) -> None:
        """Replace the live line."""
        style = "bold red" if progress.failed else "bold green"
        line = Text(format_progress(progress))
        line.stylize(style, 0, len(progress.phase))
        self._live.update(line)

    def __enter__(self) -> Self:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.__exit__(exc_type, exc, tb)


def make_progress_display(*, quiet: bool) -> ProgressDisplay:
    """Live on a terminal, plain lines otherwise, nothing when quiet."""
    if quiet:
        return QuietDisplay()
    if sys.stderr.isatty():
        return LiveDisplay()
    return PlainDisplay()
