"""`make bench`: what the gateway costs over Envoy alone, measured in the same run.

Envoy alone -> fake backend is the baseline; Envoy + sidecar (+ Redis) -> the same fake
backend is the gateway. Load comes from wrk; the table with ratios goes to
docs/benchmarks.md. Numbers on a 2-core machine shared by load generator, Envoy,
backend, sidecar and Redis are noisy: compare ratios, not absolutes.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_streams import cpu_seconds, stream_rows, tail_rows
from support.fake_embeddings import EmbeddingsThread
from support.harness import ROOT, EnvoyProcess, RedisServer, SidecarProcess, free_port

from extproc.envoy_config import render
from extproc.settings import Settings

DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
# Chunks in the vector-store rows (50,000 for the published table).
VECTOR_CHUNKS = int(os.environ.get("BENCH_VECTOR_CHUNKS", "50000"))
ONLY = os.environ.get("BENCH_ONLY", "")
KEY = "Bearer bench"
# Sequential requests at the tip of the 1,000-deep chain (the tail rows).
TAIL_RUNS = int(os.environ.get("BENCH_TAIL_RUNS", "1000"))


def start_backend() -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "support.fake_backend",
            "--port",
            str(port),
        ],
        cwd=ROOT / "tests",
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().startswith("READY")
    return process, port


def baseline_envoy(settings: dict[str, str]) -> EnvoyProcess:
    """The same Envoy config with the ext_proc filter taken out."""
    text = render(Settings(**settings))  # type: ignore[arg-type]
    start = text.index("          - name: envoy.filters.http.ext_proc")
    end = text.index("          - name: envoy.filters.http.router")
    return EnvoyProcess(settings, text[:start] + text[end:])


def wrk(url: str, body: dict[str, object], connections: int) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "{KEY}"\n'
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers during the benchmark:\n{out}")

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found, out
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert requests and rps, out
    return {"rps": float(rps.group(1)), "p50": ms("50"), "p99": ms("99"),
            "requests": float(requests.group(1))}  # fmt: skip


def time_to_first_event(
    url: str, runs: int = 200, body: dict[str, object] | None = None, marker: str = "event:"
) -> float:
    """Median ms from sending a streaming request to reading its first SSE event."""
    samples = []
    body = body or {"model": "m", "input": "stream please", "stream": True}
    with httpx.Client(headers={"Authorization": KEY}) as client:
        for _ in range(runs):
            started = time.perf_counter()
            with client.stream("POST", url, json=body) as response:
                lines = response.iter_lines()
                for line in lines:
                    if line.startswith(marker):
                        samples.append((time.perf_counter() - started) * 1000)
                        break
                for _ in lines:  # read to the end so the connection is reused
                    pass
    return statistics.median(samples)


def build_chain(url: str, depth: int) -> tuple[str, list[object]]:
    """A stored chain `depth` responses deep: the tip's id, and the same history as
    stateless input (what Envoy alone must carry to give the backend the same context)."""
    previous = None
    history: list[object] = []
    with httpx.Client(headers={"Authorization": KEY}, timeout=60) as client:
        for turn in range(depth):
            body: dict[str, object] = {"model": "m", "input": f"turn {turn}"}
            if previous:
                body["previous_response_id"] = previous
            answer = client.post(url, json=body)
            answer.raise_for_status()
            previous = answer.json()["id"]
            history.append({"type": "message", "role": "user", "content": f"turn {turn}"})
            history.extend(answer.json()["output"])
    assert previous is not None
    return previous, history


def http_p50(url: str, body: dict[str, object], runs: int = 100) -> float:
    """Median ms of sequential requests (for bodies whose requests change state)."""
    samples = []
    with httpx.Client(headers={"Authorization": KEY}, timeout=60) as client:
        for _ in range(runs):
            started = time.perf_counter()
            client.post(url, json=body).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def build_conversation(base: str, size: int) -> tuple[str, list[object]]:
    """A conversation of `size` items, and the same items as stateless input."""
    history: list[object] = []
    with httpx.Client(headers={"Authorization": KEY}, timeout=60) as client:
        conversation = client.post(f"{base}/conversations", json={}).json()["id"]
        for start in range(0, size, 20):
            items = [
                {"type": "message", "role": "user" if n % 2 == 0 else "assistant",
                 "content": f"message {n} of the conversation"}
                for n in range(start, min(start + 20, size))
            ]  # fmt: skip
            client.post(f"{base}/conversations/{conversation}/items", json={"items": items})
            history.extend(items)
    return conversation, history


def vector_rows(
    base: str, chunks_wanted: int = 50_000, kind: str = "lexical"
) -> list[tuple[str, str, str, str]]:
    """Ingest files totalling `chunks_wanted` chunks through the API, then search them
    (the search is scoped by the engine to the tenant and the store, as every search is)."""
    rng = random.Random(7)
    vocabulary = [f"term{n}" for n in range(5000)]
    files_count, per_file = 50, chunks_wanted // 50
    headers = {"Authorization": KEY}
    with httpx.Client(headers=headers, timeout=120) as client:
        store = client.post(f"{base}/vector_stores", json={"name": "bench"}).json()["id"]
        strategy = {
            "type": "static",
            "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0},
        }
        file_ids = []
        for n in range(files_count):
            # Words of one token each: 100 words make one 100-token chunk.
            text = " ".join(rng.choice(vocabulary) for _ in range(per_file * 100))
            upload = client.post(
                f"{base}/files",
                files={"file": (f"doc{n}.txt", text.encode())},
                data={"purpose": "assistants"},
            )
            file_ids.append(upload.json()["id"])
        started = time.perf_counter()
        client.post(
            f"{base}/vector_stores/{store}/file_batches",
            json={"file_ids": file_ids, "chunking_strategy": strategy},
        ).raise_for_status()
        while True:
            counts = client.get(f"{base}/vector_stores/{store}").json()["file_counts"]
            if counts["in_progress"] == 0:
                break
            time.sleep(0.2)  # polling progress, not synchronising
        elapsed = time.perf_counter() - started
        assert counts["completed"] == files_count, counts
        samples = []
        for _ in range(100):
            query = " ".join(rng.choice(vocabulary) for _ in range(3))
            began = time.perf_counter()
            client.post(f"{base}/vector_stores/{store}/search", json={"query": query})
            samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    total = files_count * per_file
    rate = f"{total / elapsed:.0f} chunks/s"
    latency = f"{samples[49]:.1f} / {samples[98]:.1f}"
    return [
        (f"ingestion, {total} chunks (embedded Qdrant, {kind})", "-", rate, "-"),
        (f"search p50 / p99 ms at {total} chunks ({kind})", "-", latency, "-"),
    ]


def chat_rows(common: dict[str, str], alone_url: str) -> list[tuple[str, str, str, str]]:
    """A Chat Completions backend (OPENRESPONSES_BACKEND_API=chat_completions): Envoy alone
    is sent the chat request itself; the gateway the Responses request it translates."""
    settings = {**endpoints(common), "backend_api": "chat_completions"}
    sidecar, gateway = SidecarProcess(settings), EnvoyProcess(settings)
    chat_url = alone_url.removesuffix("/responses") + "/chat/completions"
    gw_url = f"http://127.0.0.1:{settings['port']}/v1/responses"
    chat = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}
    ours = {"model": "m", "input": "hello there"}
    rows = []
    try:
        sidecar.start()
        gateway.start()
        http_p50(gw_url, ours, 20)  # warm up
        base, mine = http_p50(chat_url, chat), http_p50(gw_url, ours)
        rows.append(("chat backend: POST stored, p50 ms", f"{base:.2f}", f"{mine:.2f}",
                     f"+{mine - base:.2f} ms"))  # fmt: skip
        base = time_to_first_event(chat_url, body={**chat, "stream": True}, marker="data:")
        mine = time_to_first_event(gw_url, body={**ours, "stream": True})
        rows.append(("chat backend: SSE time to first event, p50 ms", f"{base:.2f}",
                     f"{mine:.2f}", f"+{mine - base:.2f} ms"))  # fmt: skip
    finally:
        gateway.stop()
        sidecar.stop()
    return rows


def hybrid_vector_rows(common: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """The vector rows again on a gateway of its own that embeds through the fake
    embeddings server (384 dimensions, answered from a thread of this process)."""
    # A Redis of its own: the first gateway's sidecar would otherwise take these jobs too.
    redis = RedisServer().start()
    with EmbeddingsThread(dimensions=384) as embeddings:
        settings = {
            **endpoints(common),
            "redis_url": redis.url,
            "data_dir": tempfile.mkdtemp(prefix="or-bench-hybrid-"),
            "embeddings_url": embeddings.url,
        }
        sidecar, gateway = SidecarProcess(settings), EnvoyProcess(settings)
        try:
            sidecar.start()
            gateway.start()
            base = f"http://127.0.0.1:{settings['port']}/v1"
            return vector_rows(base, VECTOR_CHUNKS, "hybrid, fake embeddings")
        finally:
            gateway.stop()
            sidecar.stop()
            redis.stop()
            shutil.rmtree(settings["data_dir"], ignore_errors=True)


def endpoints(common: dict[str, str], workers: int = 1) -> dict[str, str]:
    names = ("port", "admin_port", "internal_port", "metrics_port")
    ports = {name: str(free_port()) for name in names}
    # The workers' ext_proc ports are consecutive (extproc_port + i).
    ports["extproc_port"] = str(consecutive_ports(workers))
    return {**common, **ports, "workers": str(workers)}


def consecutive_ports(count: int) -> int:
    while True:
        first = free_port()
        if all(_free(first + i) for i in range(1, count)):
            return first


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def worker_sidecars(settings: dict[str, str]) -> list[SidecarProcess]:
    """What `run` starts with OPENRESPONSES_WORKERS=N, one data dir each (the embedded
    vector index is one process's; these rows never touch it)."""
    base = int(settings["extproc_port"])
    return [
        SidecarProcess({**settings, "extproc_port": str(base + i), "metrics_port": "0",
                        "data_dir": tempfile.mkdtemp(prefix="or-bench-w-")})
        for i in range(int(settings["workers"]))
    ]  # fmt: skip


class Cpu:
    """CPU seconds of a set of processes between two points."""

    def __init__(self, **pids: int) -> None:
        self.pids = pids
        self.start = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def per_request_us(self, requests: float) -> dict[str, float]:
        return {
            name: (cpu_seconds(pid) - self.start[name]) / requests * 1e6
            for name, pid in self.pids.items()
        }


def request_rows(
    alone: EnvoyProcess,
    alone_url: str,
    gateway: EnvoyProcess,
    gw_url: str,
    sidecar: SidecarProcess,
    redis: RedisServer,
) -> list[tuple[str, str, str, str]]:
    assert alone.process and gateway.process and sidecar.process and redis.process
    body = {"model": "m", "input": "benchmark me"}
    rows = []
    for c in (1, 32):
        cpu_alone = Cpu(envoy=alone.process.pid)
        base = wrk(alone_url, body, c)
        alone_us = cpu_alone.per_request_us(base["requests"])["envoy"]
        cpu = Cpu(envoy=gateway.process.pid, sidecar=sidecar.process.pid,
                  redis=redis.process.pid)  # fmt: skip
        ours = wrk(gw_url, body, c)
        us = cpu.per_request_us(ours["requests"])
        ratio = ours["rps"] / base["rps"]
        rows.append(
            (f"POST, c={c}: req/s", f"{base['rps']:.0f}", f"{ours['rps']:.0f}", f"{ratio:.2f}x")
        )
        for q in ("p50", "p99"):
            delta = f"+{ours[q] - base[q]:.2f} ms"
            rows.append((f"POST, c={c}: {q} ms", f"{base[q]:.2f}", f"{ours[q]:.2f}", delta))
        total = sum(us.values())
        rows += [
            (f"CPU per request, c={c}: Envoy", f"{alone_us:.0f} us", f"{us['envoy']:.0f} us",
             f"+{us['envoy'] - alone_us:.0f} us (ext_proc's share in Envoy)"),
            (f"CPU per request, c={c}: sidecar / Redis", "-",
             f"{us['sidecar']:.0f} / {us['redis']:.0f} us", "-"),
            (f"CPU per request, c={c}: all gateway processes", f"{alone_us:.0f} us",
             f"{total:.0f} us", f"+{total - alone_us:.0f} us"),
        ]  # fmt: skip
    return rows


def scaling_rows(common: dict[str, str], one_worker_rps: float) -> list[tuple[str, str, str, str]]:
    """c=32 with two sidecar processes behind one Envoy, against one."""
    settings = endpoints(common, workers=2)
    sidecars = worker_sidecars(settings)
    gateway = EnvoyProcess(settings)
    try:
        for sidecar in sidecars:
            sidecar.start()
        gateway.start()
        url = f"http://127.0.0.1:{settings['port']}/v1/responses"
        two = wrk(url, {"model": "m", "input": "benchmark me"}, 32)["rps"]
    finally:
        gateway.stop()
        for sidecar in sidecars:
            sidecar.stop()
            shutil.rmtree(sidecar.settings["data_dir"], ignore_errors=True)
    scale = f"{two / one_worker_rps:.2f}x"
    return [("POST, c=32: req/s with 1 -> 2 workers", f"{one_worker_rps:.0f}", f"{two:.0f}", scale)]


def main() -> None:
    backend, backend_port = start_backend()
    redis = RedisServer().start()
    # A data dir of the run's own: an earlier run's vector index must not weigh on this one.
    data_dir = tempfile.mkdtemp(prefix="or-bench-")
    common = {
        "backend_url": f"http://127.0.0.1:{backend_port}/v1",
        "redis_url": redis.url,
        "data_dir": data_dir,
    }
    alone_settings, gw_settings = endpoints(common), endpoints(common)
    alone = baseline_envoy(alone_settings)
    sidecar = SidecarProcess(gw_settings)
    gateway = EnvoyProcess(gw_settings)
    rows: list[tuple[str, str, str, str]] = []
    try:
        alone.start()
        sidecar.start()
        gateway.start()
        assert sidecar.process is not None
        alone_url = f"http://127.0.0.1:{alone_settings['port']}/v1/responses"
        gw_url = f"http://127.0.0.1:{gw_settings['port']}/v1/responses"
        build_chain(gw_url, 3)  # warm up scripts and connections
        if ONLY != "vector":
            rows += request_rows(alone, alone_url, gateway, gw_url, sidecar, redis)
            one_worker_rps = next(float(r[2]) for r in rows if r[0] == "POST, c=32: req/s")
            base_ttfe, ours_ttfe = time_to_first_event(alone_url), time_to_first_event(gw_url)
            delta = f"+{ours_ttfe - base_ttfe:.2f} ms"
            rows.append(
                ("SSE time to first event, p50 ms", f"{base_ttfe:.2f}", f"{ours_ttfe:.2f}", delta)
            )
            rows += stream_rows(alone_url, gw_url, sidecar.process.pid)
            rows += chat_rows(common, alone_url)
        added: dict[int, float] = {}
        for depth in () if ONLY == "vector" else (1, 100, 1000):
            tip, history = build_chain(gw_url, depth)
            chained = {"model": "m", "input": "next", "previous_response_id": tip, "store": False}
            # Envoy alone gets the same context the stateless way, inline in the request.
            inline = {"model": "m", "input": [*history, {"role": "user", "content": "next"}]}
            base_p50, ours_p50 = wrk(alone_url, inline, 1)["p50"], wrk(gw_url, chained, 1)["p50"]
            added[depth] = ours_p50 - base_p50
            growth = f"+{added[depth]:.2f} ms ({added[depth] / added[1]:.2f}x depth 1)"
            name = f"chain depth {depth}, c=1: p50 ms"
            rows.append((name, f"{base_p50:.2f}", f"{ours_p50:.2f}", growth))
        if ONLY != "vector":
            rows += tail_rows(alone_url, gw_url, inline, chained, 1000, TAIL_RUNS)
        gw_base = gw_url.removesuffix("/responses")
        added_conv: dict[int, float] = {}
        for size in () if ONLY == "vector" else (20, 1000):
            conversation, history = build_conversation(gw_base, size)
            inline = {"model": "m", "input": [*history, {"role": "user", "content": "next"}]}
            turn = {"model": "m", "input": "next", "conversation": conversation, "store": False}
            base_p50, ours_p50 = http_p50(alone_url, inline), http_p50(gw_url, turn)
            added_conv[size] = ours_p50 - base_p50
            growth = (
                f"+{added_conv[size]:.2f} ms ({added_conv[size] / added_conv[20]:.2f}x 20 items)"
            )
            name = f"conversation of {size} items, sequential: p50 ms"
            rows.append((name, f"{base_p50:.2f}", f"{ours_p50:.2f}", growth))
        if ONLY != "vector":
            rows += scaling_rows(common, one_worker_rps)
        rows += vector_rows(gw_url.removesuffix("/responses"), VECTOR_CHUNKS)
        rows += hybrid_vector_rows(common)
    finally:
        gateway.stop()
        sidecar.stop()
        alone.stop()
        redis.stop()
        backend.terminate()
        backend.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    write_report(rows)


def write_report(rows: list[tuple[str, str, str, str]]) -> None:
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (tests/benchmark.py): wrk against Envoy alone -> fake backend and against",
        "Envoy + sidecar + Redis -> the same fake backend, same run, same machine "
        f"({os.cpu_count()} cores shared by wrk, Envoy, backend, sidecar and Redis; "
        f"{DURATION} s per point). Written {time.strftime('%Y-%m-%d')}.",
        "",
        "| measure | Envoy alone | Envoy + gateway | gateway vs alone |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    if ONLY:  # a partial run does not replace the published table
        print("\n".join(lines))
        return
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    notes = out.read_text().split("<!-- notes -->", 1)[1] if out.exists() else "\n"
    out.write_text("\n".join(lines) + "<!-- notes -->" + notes)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
