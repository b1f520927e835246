"""The one table from what happened to a call to its outcome."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from lagrace.errors import ProtocolError
from lagrace.events import Outcome
from lagrace.outcomes import classify


def _connector_error(cls: type[aiohttp.ClientConnectorError]) -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None)
    return cls(key, OSError(111, "Connection refused"))


CASES: list[tuple[str, bool, int | None, BaseException | None, Outcome]] = [
    # nothing sent -> fail
    ("refused", False, None, _connector_error(aiohttp.ClientConnectorError), Outcome.FAIL),
    ("dns", False, None, _connector_error(aiohttp.ClientConnectorDNSError), Outcome.FAIL),
    ("connect timeout", False, None, aiohttp.ConnectionTimeoutError(), Outcome.FAIL),
    ("deadline before sending", False, None, TimeoutError(), Outcome.FAIL),
    # sent, no answer -> info
    ("read timeout", True, None, aiohttp.SocketTimeoutError(), Outcome.INFO),
    ("deadline after sending", True, None, TimeoutError(), Outcome.INFO),
    ("server disconnected", True, None, aiohttp.ServerDisconnectedError(), Outcome.INFO),
    ("reset", True, None, aiohttp.ClientOSError(104, "Connection reset by peer"), Outcome.INFO),
    ("raw reset", True, None, ConnectionResetError(), Outcome.INFO),
    # answered
    ("200 parsed", True, 200, None, Outcome.OK),
    ("202 accepted", True, 202, None, Outcome.OK),
    ("200 not JSON", True, 200, ProtocolError("body is not JSON"), Outcome.INFO),
    ("200 wrong shape", True, 200, ProtocolError("missing field"), Outcome.INFO),
    ("200 payload cut", True, 200, aiohttp.ClientPayloadError("cut"), Outcome.INFO),
    ("200 too large", True, 200, ProtocolError("exceeds"), Outcome.INFO),
    ("400 bad request", True, 400, None, Outcome.FAIL),
    ("404 not found", True, 404, None, Outcome.FAIL),
    ("409 exists", True, 409, None, Outcome.FAIL),
    ("422 validation", True, 422, None, Outcome.FAIL),
    ("429 rate limit", True, 429, None, Outcome.FAIL),
    ("4xx with a cut body", True, 404, aiohttp.ClientPayloadError("cut"), Outcome.FAIL),
    ("408 qdrant timeout", True, 408, None, Outcome.INFO),
    ("500 meta-op timeout", True, 500, None, Outcome.INFO),
    ("503 unavailable", True, 503, None, Outcome.INFO),
    ("302 redirect", True, 302, None, Outcome.INFO),
    # cancellation: always unknown
    ("cancelled before sending", False, None, asyncio.CancelledError(), Outcome.INFO),
    ("cancelled after sending", True, None, asyncio.CancelledError(), Outcome.INFO),
    ("cancelled reading a 200", True, 200, asyncio.CancelledError(), Outcome.INFO),
]


@pytest.mark.parametrize(
    ("sent", "status", "exc", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classify_table(
    sent: bool, status: int | None, exc: BaseException | None, expected: Outcome
) -> None:
    """Each row of the table maps to its documented outcome."""
    assert classify(sent=sent, status=status, exc=exc) is expected


def test_answers_make_a_status_an_ordinary_answer() -> None:
    """A status listed in answers (readyz 503) counts like a 2xx."""
    assert classify(sent=True, status=503, answers=(503,)) is Outcome.OK
    assert classify(sent=True, status=503, exc=ProtocolError("x"), answers=(503,)) is Outcome.INFO


def test_classify_needs_a_status_or_an_exception() -> None:
    """Neither a status nor an exception is a caller bug."""
    with pytest.raises(ValueError, match="needs an HTTP status"):
        classify(sent=True)
