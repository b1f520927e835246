"""Qdrant's ``StorageError`` kinds, their HTTP statuses and texts, and the JSON envelopes (§1).

``StorageError`` here is a value, not an exception: the apply path returns it as the result
of an entry (a *user error* is logged and dismissed, §4.2) and the HTTP app renders it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class ErrorKind(enum.Enum):
    """The ``StorageError`` variants the model produces, with their HTTP status and prefix."""

    BAD_INPUT = (400, "Wrong input: ")
    ALREADY_EXISTS = (409, "Wrong input: ")
    NOT_FOUND = (404, "Not found: ")
    SERVICE_ERROR = (500, "Service internal error: ")
    BAD_REQUEST = (400, "Bad request: ")
    TIMEOUT = (408, "Timeout: ")
    PRECONDITION_FAILED = (500, "Pre-condition failure: ")
    CANCELLED = (500, "Operation Cancelled: ")  # a CollectionError of an internal call

    @property
    def http_status(self) -> int:
        """The HTTP status Qdrant answers with."""
        return self.value[0]

    @property
    def prefix(self) -> str:
        """The ``Display`` prefix of the variant."""
        return self.value[1]


@dataclass(frozen=True, slots=True)
class StorageError:
    """One ``StorageError``: its kind and the description after the prefix."""

    kind: ErrorKind
    description: str

    def __str__(self) -> str:
        return f"{self.kind.prefix}{self.description}"

    @property
    def http_status(self) -> int:
        """The HTTP status of this error."""
        return self.kind.http_status

    @property
    def is_user_error(self) -> bool:
        """Everything but ``ServiceError`` is a user error at apply time (§4.2)."""
        return self.kind is not ErrorKind.SERVICE_ERROR


def collection_not_found(name: str) -> StorageError:
    """``Not found: Collection `x` doesn't exist!``."""
    return StorageError(ErrorKind.NOT_FOUND, f"Collection `{name}` doesn't exist!")


def ok_envelope(result: Any, elapsed_s: float) -> dict[str, Any]:
    """``{"result": ..., "status": "ok", "time": ...}``."""
    return {"result": result, "status": "ok", "time": elapsed_s}


def error_envelope(message: str, elapsed_s: float) -> dict[str, Any]:
    """``{"status": {"error": ...}, "time": ...}`` (no ``result``)."""
    return {"status": {"error": message}, "time": elapsed_s}
