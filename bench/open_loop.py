"""An open-loop load at a fixed arrival rate, with latency counted from each request's scheduled start (no
coordinated omission), and a sweep of rates for the highest one whose p99 stays under a target. Used by
bench/scale.py."""

from __future__ import annotations

import gc
import math
import sys
from typing import Any

P99_TARGET_MS = 100.0


def open_loop(base: str, token: str, paths: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """GET paths round-robin at `rate` per second for `seconds`; each latency counts from the request's scheduled
    start, so a slow answer delays no later request's clock (no coordinated omission).

    The generator shares the machine's 2 cores with the API, so it is lean: HTTP/1.1 keep-alive connections on
    asyncio streams, each request's bytes written once, a connection taken from the idle ones or opened when none is
    idle, the answer read to the end of its Content-Length."""
    import asyncio
    from urllib.parse import urlsplit

    where = urlsplit(base)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    requests = [(f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                 "Accept: application/json\r\n\r\n").encode() for p in paths]

    async def run() -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5

        async def one(k: int) -> None:
            nonlocal errors
            scheduled = start + k / rate
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            ok = False
            for reused in (bool(idle), False):  # a kept-alive connection the server closed meanwhile: once more
                reader, writer = idle.pop() if reused else await asyncio.open_connection(host, port)
                try:
                    writer.write(requests[k % len(requests)])
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
                    writer.close()
                    if reused and not isinstance(exc, TimeoutError):
                        continue
                    break
                status = int(head.split(b" ", 2)[1])
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                ok = status == 200
                idle.append((reader, writer))
                break
            latencies.append(loop.time() - scheduled)
            errors += 0 if ok else 1

        await asyncio.gather(*(one(k) for k in range(int(rate * seconds))))
        for _, writer in idle:
            writer.close()
        return latencies, errors

    gc.collect()
    gc.disable()  # a collection pausing the generator's loop would count as the server's latency
    try:
        latencies, errors = asyncio.run(run())
    finally:
        gc.enable()
    ms = sorted(1000 * v for v in latencies)
    return {"rate": rate, "requests": len(ms), "errors": errors, "p50_ms": _pct(ms, 50), "p99_ms": _pct(ms, 99),
            "max_ms": ms[-1] if ms else None}


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1)]


def sweep(base: str, token: str, paths: list[str], rates: list[float], seconds: float) -> dict[str, Any]:
    """open_loop at each rate, lowest first, until p99 passes 3x the target; the highest rate under the target."""
    runs = []
    for rate in rates:
        runs.append(open_loop(base, token, paths, rate, seconds))
        print(f"    {paths[0].split('?')[0]} at {rate:g}/s: p50 {runs[-1]['p50_ms']:.0f} ms, p99 "
              f"{runs[-1]['p99_ms']:.0f} ms, {runs[-1]['errors']} errors", file=sys.stderr, flush=True)
        if runs[-1]["p99_ms"] > 3 * P99_TARGET_MS:
            break
    return {"runs": runs, "highest_rate_p99_under_100ms": highest_passing(runs)}


def highest_passing(runs: list[dict[str, Any]]) -> float | None:
    """The highest rate at which p99 stays under the target with no errors, at it and at every lower rate."""
    best = None
    for run in sorted(runs, key=lambda r: r["rate"]):
        if run["p99_ms"] >= P99_TARGET_MS or run["errors"]:
            break
        best = run["rate"]
    return best
