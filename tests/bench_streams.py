"""Bench rows for streams and tails: relayed SSE events per second with many concurrent
token streams, and the latency of many sequential requests at the tip of a deep chain.

Kept apart from benchmark.py (the request rows) so each file stays readable.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from support.fake_backend import HANDLING_HEADER

KEY = "Bearer bench"
_STAMP = b'"sent_ns":'


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass(frozen=True)
class StreamRun:
    events: int  # text deltas received
    seconds: float
    delays_ms: list[float]  # receive time minus the backend's send stamp, per delta

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def _one_stream(client: httpx.AsyncClient, url: str, body: dict[str, object]) -> list[float]:
    delays: list[float] = []
    async with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            at = line.find('"sent_ns":')
            if at < 0:
                continue
            now = time.monotonic_ns()
            start = at + len(_STAMP)
            end = start
            while end < len(line) and line[end].isdigit():
                end += 1
            delays.append((now - int(line[start:end])) / 1e6)
    return delays


async def _streams(url: str, streams: int, tokens: int, rounds: int) -> StreamRun:
    """`streams` concurrent streams from the ticker model (one delta per 10 ms), each
    `rounds` times in a row."""
    body = {"model": "ticker", "input": " ".join(["tok"] * tokens), "stream": True}
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    async with httpx.AsyncClient(headers={"Authorization": KEY}, limits=limits, timeout=60) as c:

        async def worker() -> list[float]:
            delays: list[float] = []
            for _ in range(rounds):
                delays += await _one_stream(c, url, body)
            return delays

        started = time.perf_counter()
        results = await asyncio.gather(*(worker() for _ in range(streams)))
        elapsed = time.perf_counter() - started
    delays = [d for result in results for d in result]
    return StreamRun(len(delays), elapsed, delays)


def stream_rows(
    alone_url: str, gw_url: str, sidecar_pid: int, streams: int = 64
) -> list[tuple[str, str, str, str]]:
    """Events per second and the per-event delay the gateway adds; the sidecar's CPU per
    event gives how many events one process could relay before saturating its core."""
    tokens, rounds = 100, 3
    alone = asyncio.run(_streams(alone_url, streams, tokens, rounds))
    before = cpu_seconds(sidecar_pid)
    ours = asyncio.run(_streams(gw_url, streams, tokens, rounds))
    cpu = cpu_seconds(sidecar_pid) - before
    capacity = ours.events / cpu if cpu else float("inf")
    rows = [
        (
            f"SSE relay, {streams} streams x 1 token/10 ms: events/s",
            f"{alone.rate:.0f}",
            f"{ours.rate:.0f}",
            f"{ours.rate / alone.rate:.2f}x",
        ),
        (
            "SSE relay: sidecar CPU per event / events per CPU-second",
            "-",
            f"{cpu / ours.events * 1e6:.0f} us",
            f"{capacity:.0f} events/s per process",
        ),
    ]
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        base, gw = percentile(alone.delays_ms, q), percentile(ours.delays_ms, q)
        rows.append((f"SSE relay: per-event delay {label} ms", f"{base:.2f}", f"{gw:.2f}",
                     f"+{gw - base:.2f} ms"))  # fmt: skip
    return rows


@dataclass(frozen=True)
class Sequential:
    total_ms: list[float]
    own_ms: list[float]  # total minus the backend's own handling time


def sequential(url: str, body: dict[str, object], runs: int) -> Sequential:
    totals: list[float] = []
    own: list[float] = []
    # Encoded once: the client's own JSON work stays out of both columns.
    payload = json.dumps(body).encode()
    headers = {"Authorization": KEY, "Content-Type": "application/json"}
    with httpx.Client(headers=headers, timeout=60) as client:
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.post(url, content=payload)
            elapsed = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            totals.append(elapsed)
            own.append(elapsed - int(answer.headers[HANDLING_HEADER]) / 1000)
    return Sequential(totals, own)


def tail_rows(
    alone_url: str,
    gw_url: str,
    inline: dict[str, object],
    chained: dict[str, object],
    depth: int,
    runs: int,
) -> list[tuple[str, str, str, str]]:
    """`runs` sequential requests at the tip of a `depth`-deep chain: the gateway's own
    latency (the backend's handling time subtracted) and the slowest request."""
    alone, ours = sequential(alone_url, inline, runs), sequential(gw_url, chained, runs)
    rows = []
    for label, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        base, gw = percentile(alone.own_ms, q), percentile(ours.own_ms, q)
        rows.append((f"chain depth {depth}, {runs} sequential: own latency {label} ms",
                     f"{base:.2f}", f"{gw:.2f}", f"+{gw - base:.2f} ms"))  # fmt: skip
    rows.append((f"chain depth {depth}, {runs} sequential: slowest total ms",
                 f"{max(alone.total_ms):.2f}", f"{max(ours.total_ms):.2f}", "-"))  # fmt: skip
    return rows
