"""A stand-in ``qdrant`` binary for run_cluster.sh tests: answers ``/cluster`` and ``/telemetry``.

Run as ``python fake_qdrant.py --uri URI [--bootstrap URI]`` with the environment run_cluster.sh
sets. Peers meet through a registry directory (``FAKE_QDRANT_REGISTRY``): each registers its p2p
URI and peer id; the peer started without ``--bootstrap`` is the leader. The peer id persists in
``$QDRANT__STORAGE__STORAGE_PATH/raft_state.json`` like Qdrant's. Every start appends its
argv, pid, cwd and ``QDRANT__*``/``RUN_MODE`` environment to ``starts.jsonl`` in the storage
directory.

Knobs: ``FAKE_QDRANT_STAGING=false`` (telemetry says no staging), ``FAKE_QDRANT_VERSION=1.16.2``
(telemetry reports no staging key, as v1.16.x; the ``test_slow_down`` probe answers 404 with
staging and 400 without, as Qdrant does for a collection that does not exist),
``FAKE_QDRANT_NO_LEADER=1``
(never a leader), ``FAKE_QDRANT_IGNORE_TERM=1`` (survive SIGTERM), ``FAKE_QDRANT_EXIT=1`` (exit
at once with an error line).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _peer_id(storage: Path) -> int:
    state = storage / "raft_state.json"
    if state.exists():
        return int(json.loads(state.read_text())["peer_id"])
    configured = os.environ.get("QDRANT__CLUSTER__PEER_ID")  # used on first start only
    peer_id = int(configured) if configured else random.randrange(1, 2**53)
    storage.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"peer_id": peer_id}))
    return peer_id


def _registry() -> list[dict[str, Any]]:
    root = Path(os.environ["FAKE_QDRANT_REGISTRY"])
    return [json.loads(p.read_text()) for p in sorted(root.glob("peer-*.json"))]


def main() -> int:
    """Serve until signalled."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--bootstrap")
    args = parser.parse_args()
    storage = Path(os.environ["QDRANT__STORAGE__STORAGE_PATH"])
    peer_id = _peer_id(storage)
    with (storage / "starts.jsonl").open("a") as out:
        env = {k: v for k, v in os.environ.items() if k.startswith("QDRANT__") or k == "RUN_MODE"}
        record = {"pid": os.getpid(), "argv": sys.argv[1:], "cwd": os.getcwd(), "env": env}
        out.write(json.dumps(record) + "\n")
    if os.environ.get("FAKE_QDRANT_EXIT") == "1":
        sys.stdout.write("ERROR qdrant: fake start-up failure\n")
        return 1
    if os.environ.get("FAKE_QDRANT_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    registry = Path(os.environ["FAKE_QDRANT_REGISTRY"])
    registry.mkdir(parents=True, exist_ok=True)
    entry = {"peer_id": peer_id, "uri": args.uri + "/", "leader": args.bootstrap is None}
    port = int(os.environ["QDRANT__CLUSTER__P2P__PORT"])
    (registry / f"peer-{port}.json").write_text(json.dumps(entry))
    staging = os.environ.get("FAKE_QDRANT_STAGING", "true") != "false"
    version = os.environ.get("FAKE_QDRANT_VERSION", "1.18.3")
    old_telemetry = version.startswith("1.16.")
    no_leader = os.environ.get("FAKE_QDRANT_NO_LEADER") == "1"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/cluster":
                peers = _registry()
                leader = next((p["peer_id"] for p in peers if p["leader"]), None)
                result: Any = {
                    "status": "enabled",
                    "peer_id": peer_id,
                    "peers": {str(p["peer_id"]): {"uri": p["uri"]} for p in peers},
                    "raft_info": {
                        "term": 1,
                        "commit": 7,
                        "pending_operations": 0,
                        "leader": None if no_leader else leader,
                        "role": "Leader" if leader == peer_id else "Follower",
                        "is_voter": True,
                    },
                }
            elif self.path.startswith("/telemetry"):
                features = {"debug": True} if old_telemetry else {"staging": staging}
                result = {"id": "fake", "app": {"version": version, "features": features}}
            elif self.path == "/":
                self._answer(200, {"title": "qdrant - vector search engine", "version": version})
                return
            else:
                self.send_error(404)
                return
            self._answer(200, {"result": result, "status": "ok", "time": 0.0})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            if not self.path.endswith("/cluster"):
                self.send_error(404)
            elif staging:
                name = self.path.split("/")[2]
                error = f"Not found: Collection `{name}` doesn't exist!"
                self._answer(404, {"status": {"error": error}, "time": 0.0})
            else:
                error = "data did not match any variant of untagged enum ClusterOperations"
                self._answer(400, {"status": {"error": error}, "time": 0.0})

        def _answer(self, status: int, obj: Any) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # stdlib's signature
            """Quiet: the log file is for Qdrant-like lines."""

    http_port = int(os.environ["QDRANT__SERVICE__HTTP_PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", http_port), Handler)
    sys.stdout.write(
        f"2024-01-01T00:00:00.000000Z  INFO qdrant: fake peer {peer_id} on {http_port}\n"
    )
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
