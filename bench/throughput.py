"""Upsert throughput per generator core: lagrace's hammer next to wrk, Locust and bare aiohttp.

Every contender sends the same upsert (10 points of 8 dimensions, ``wait=true``,
``ordering=strong``) with the same number of connections (``--workers``, 64) for ``--seconds``
from core 1 to a canned endpoint on core 0 (nginx, :mod:`bench.endpoint`), in rounds whose
order rotates, and the medians are compared:

* ``lagrace-uvloop`` / ``lagrace-asyncio``: the hammer of a run (closed loop) through lagrace's
  client, recorder and gzip history sink with its flusher (``bench/loads.py``);
* ``aiohttp-uvloop`` / ``aiohttp-asyncio``: the bare aiohttp loop, one pre-serialised body;
* ``locust``: Locust's ``FastHttpUser`` (geventhttpclient), one process, no wait time;
* ``wrk``: wrk's one thread (C, the ceiling of this endpoint on one core).

    sudo apt-get install -y nginx wrk         # or let the script do it (as root)
    .venv/bin/python -m bench.throughput [--rounds 3] [--seconds 3] [--workers 64] [--skip wrk]

Locust is installed into ``bench/.venv-locust`` (not lagrace's environment) on first use.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.endpoint import (
    GENERATOR_CORE,
    LOCUST_VENV,
    alternating,
    canned_endpoint,
    ensure_tools,
    machine,
    median,
    pinned,
    py_load,
    run_load,
)
from bench.loads import COLLECTION, upsert_body

PATH = f"/collections/{COLLECTION}/points?wait=true&ordering=strong"

# Run by bench/.venv-locust's interpreter: Locust as a library (an explicit Environment and
# local runner), counting requests and this process's CPU time over the measured window.
LOCUST_SCRIPT = f'''
import json, os, resource, sys, time
import gevent
from locust import FastHttpUser, constant, task
from locust.env import Environment

URL, USERS, WARMUP, SECONDS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
BODY = open(sys.argv[5], "rb").read()


class Upserter(FastHttpUser):
    host = URL
    wait_time = constant(0)

    @task
    def upsert(self):
        self.client.put("{PATH}", data=BODY, headers={{"Content-Type": "application/json"}})


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


env = Environment(user_classes=[Upserter])
runner = env.create_local_runner()
runner.start(USERS, spawn_rate=USERS * 100)
gevent.sleep(WARMUP)
total = env.stats.total
n0, f0, t0, c0 = total.num_requests, total.num_failures, time.perf_counter(), cpu()
gevent.sleep(SECONDS)
n1, f1, t1, c1 = total.num_requests, total.num_failures, time.perf_counter(), cpu()
runner.quit()
out = {{"rps": (n1 - n0) / (t1 - t0), "per_cpu_s": (n1 - n0) / (c1 - c0), "failures": f1 - f0}}
print(json.dumps(out))
'''


def _wrk(url: str, workers: int, seconds: float, tmp: Path) -> dict[str, float]:
    body = upsert_body().decode()
    script = tmp / "upsert.lua"
    script.write_text(
        'wrk.method = "PUT"\n'
        f"wrk.body = [[{body}]]\n"
        'wrk.headers["Content-Type"] = "application/json"\n',
        encoding="utf-8",
    )
    argv = ["wrk", "-t1", f"-c{workers}", f"-d{max(1, round(seconds))}s", "-s", str(script)]
    out = tmp / "wrk.out"
    with out.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(  # noqa: S603  # wrk with fixed arguments, on loopback
            pinned(GENERATOR_CORE, [*argv, f"{url}{PATH}"]), stdout=fh
        )
        _, status, usage = os.wait4(proc.pid, 0)  # taskset execs wrk: this is wrk's own CPU
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text(encoding="utf-8")
    found = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    if proc.returncode != 0 or found is None or total is None or "Non-2xx" in text:
        raise RuntimeError(f"wrk: {text}")
    return {
        "rps": float(found.group(1)),
        "per_cpu_s": int(total.group(1)) / (usage.ru_utime + usage.ru_stime),
    }


def _locust(url: str, workers: int, seconds: float, tmp: Path) -> dict[str, float]:
    (tmp / "body.json").write_bytes(upsert_body())
    script = tmp / "locust_load.py"
    script.write_text(LOCUST_SCRIPT, encoding="utf-8")
    python = str(LOCUST_VENV / "bin" / "python")
    argv = [python, str(script), url, str(workers), "0.5", str(seconds), str(tmp / "body.json")]
    result = run_load(argv, seconds + 60)
    if result["failures"]:
        raise RuntimeError(f"locust saw {result['failures']} failures")
    return {"rps": float(result["rps"]), "per_cpu_s": float(result["per_cpu_s"])}


Contender = Callable[[str, int, float, Path], dict[str, float]]


def _python(load: str, loop: str, *extra: str) -> Contender:
    def run(url: str, workers: int, seconds: float, _tmp: Path) -> dict[str, float]:
        argv = py_load(load, "--url", url, "--loop", loop, "--workers", str(workers))
        result = run_load([*argv, "--seconds", str(seconds), *extra], seconds + 60)
        return {"rps": float(result["rps"]), "per_cpu_s": float(result["per_cpu_s"])}

    return run


CONTENDERS: dict[str, Contender] = {
    "lagrace-uvloop": _python("lagrace", "uvloop", "--gzip"),
    "lagrace-asyncio": _python("lagrace", "asyncio", "--gzip"),
    "aiohttp-uvloop": _python("aiohttp", "uvloop"),
    "aiohttp-asyncio": _python("aiohttp", "asyncio"),
    "locust": _locust,
    "wrk": _wrk,
}


def main() -> None:
    """Alternate rounds of every contender against one canned endpoint; print ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=64, help="connections, for every contender")
    ap.add_argument("--skip", action="append", default=[], choices=sorted(CONTENDERS))
    args = ap.parse_args()
    names = [n for n in CONTENDERS if n not in args.skip]
    ensure_tools(locust="locust" in names)
    rates: dict[str, list[float]] = {n: [] for n in names}
    per_cpu: dict[str, list[float]] = {n: [] for n in names}
    with canned_endpoint() as url, tempfile.TemporaryDirectory() as tmp:
        for r, name in alternating(names, args.rounds):
            got = CONTENDERS[name](url, args.workers, args.seconds, Path(tmp))
            rates[name].append(got["rps"])
            per_cpu[name].append(got["per_cpu_s"])
            print(
                f"  round {r + 1}: {name:16} {got['rps']:9.0f} req/s "
                f"{got['per_cpu_s']:9.0f} req/CPU-s",
                flush=True,
            )
    print(f"\n{machine().line()}")
    print(
        f"canned nginx endpoint on core 0, generator on core 1, {args.workers} connections, "
        f"{args.rounds} alternating rounds of {args.seconds:g} s; medians:"
    )
    med = {n: median(v) for n, v in rates.items()}
    cpu = {n: median(v) for n, v in per_cpu.items()}
    for name in names:
        print(f"  {name:16} {med[name]:9.0f} req/s {cpu[name]:9.0f} req/CPU-s")
    print("ratios (req/s; req per CPU-second of the generator, robust on a shared machine):")
    for a, b in PAIRS:
        if med.get(a) and med.get(b):
            print(f"  {a} / {b}: x{med[a] / med[b]:.2f}; per CPU-s x{cpu[a] / cpu[b]:.2f}")


PAIRS = (
    ("lagrace-uvloop", "aiohttp-uvloop"),
    ("lagrace-uvloop", "locust"),
    ("lagrace-uvloop", "wrk"),
    ("lagrace-asyncio", "aiohttp-asyncio"),
    ("lagrace-uvloop", "lagrace-asyncio"),
    ("aiohttp-uvloop", "aiohttp-asyncio"),
    ("locust", "aiohttp-uvloop"),
)


if __name__ == "__main__":
    main()
