"""The one mapping from what happened to a call to its :class:`~lagrace.events.Outcome`.

Jepsen's three outcomes (``docs/run-directory.md``):

* ``ok``   the operation took effect and its answer was understood;
* ``fail`` it did not take effect: nothing was sent (refused, DNS, connect timeout), or
  Qdrant rejected it with a 4xx;
* ``info`` unknown: a timeout or a disconnect after the request was sent, a 5xx (a
  meta-operation answered 500 may still be applied later, notes §5), a 2xx whose body we
  could not read or parse, anything unexpected.

Two 4xx codes are not rejections and count as ``info``: 408 (Qdrant's ``Timeout``: the
operation may still complete) and 499 (client closed request). A cancelled call is ``info``
whatever it got to: a cancellation can land while the request is being written, before
the client learns that it was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Final

from lagrace.events import Outcome

# 4xx statuses that do not mean "rejected, not applied".
_UNKNOWN_4XX: Final = frozenset({408, 499})


def classify(
    *,
    sent: bool,
    status: int | None = None,
    exc: BaseException | None = None,
    answers: Collection[int] = (),
) -> Outcome:
    """The outcome of one call.

    ``sent``: the request left the client (its headers were written); ``status``: the HTTP
    status, if one was received; ``exc``: what went wrong reading, parsing or waiting, if
    anything (a transport error, a timeout, a :class:`~lagrace.errors.ProtocolError` for a
    body of the wrong shape, a cancellation). ``answers``: non-2xx statuses that are
    ordinary answers of this endpoint (``/readyz`` answers 503 for "not ready").
    """
    if isinstance(exc, asyncio.CancelledError):
        return Outcome.INFO
    if status is None:
        if exc is None:
            raise ValueError("classify needs an HTTP status or an exception")
        # No answer at all: if nothing was sent it cannot have taken effect.
        return Outcome.INFO if sent else Outcome.FAIL
    if 200 <= status < 300 or status in answers:
        # A success status whose body we could not read or understand: we do not know.
        return Outcome.OK if exc is None else Outcome.INFO
    if 400 <= status < 500 and status not in _UNKNOWN_4XX:
        return Outcome.FAIL
    return Outcome.INFO
