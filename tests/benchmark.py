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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from support.fake_embeddings import EmbeddingsThread
from support.harness import ROOT, EnvoyProcess, RedisServer, SidecarProcess, free_port

from extproc.envoy_config import render
from extproc.settings import Settings

DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
# Chunks in the vector-store rows (50,000 for the published table).
VECTOR_CHUNKS = int(os.environ.get("BENCH_VECTOR_CHUNKS", "50000"))
ONLY = os.environ.get("BENCH_ONLY", "")
KEY = "Bearer bench"


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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_first_event(url: str, runs: int = 200) -> float:
    """Median ms from sending a streaming request to reading its first SSE event."""
    samples = []
    body = {"model": "m", "input": "stream please", "stream": True}
    with httpx.Client(headers={"Authorization": KEY}) as client:
        for _ in range(runs):
            started = time.perf_counter()
            with client.stream("POST", url, json=body) as response:
                lines = response.iter_lines()
                for line in lines:
                    if line.startswith("event:"):
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


def endpoints(common: dict[str, str]) -> dict[str, str]:
    names = ("port", "admin_port", "extproc_port", "internal_port", "metrics_port")
    ports = {name: str(free_port()) for name in names}
    return {**common, **ports}


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
        body = {"model": "m", "input": "benchmark me"}
        build_chain(gw_url, 3)  # warm up scripts and connections
        # BENCH_ONLY=vector runs the vector-store rows alone.
        for c in () if ONLY == "vector" else (1, 32):
            base = wrk(alone_url, body, c)
            before = cpu_seconds(sidecar.process.pid)
            ours = wrk(gw_url, body, c)
            cpu_us = (cpu_seconds(sidecar.process.pid) - before) / ours["requests"] * 1e6
            ratio = ours["rps"] / base["rps"]
            rows.append(
                (f"POST, c={c}: req/s", f"{base['rps']:.0f}", f"{ours['rps']:.0f}", f"{ratio:.2f}x")
            )
            for q in ("p50", "p99"):
                delta = f"+{ours[q] - base[q]:.2f} ms"
                rows.append((f"POST, c={c}: {q} ms", f"{base[q]:.2f}", f"{ours[q]:.2f}", delta))
            rows.append((f"sidecar CPU per request, c={c}", "-", f"{cpu_us:.0f} us", "-"))
        if ONLY != "vector":
            base_ttfe, ours_ttfe = time_to_first_event(alone_url), time_to_first_event(gw_url)
            delta = f"+{ours_ttfe - base_ttfe:.2f} ms"
            rows.append(
                ("SSE time to first event, p50 ms", f"{base_ttfe:.2f}", f"{ours_ttfe:.2f}", delta)
            )
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
