"""Stored responses outlive the processes: a sidecar restart, and `openresponses-gw run`."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

import openai
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import ROOT, Stack, free_port
from support.served_bodies import checked_sdk


def test_sidecar_restart_keeps_responses(
    stack: Stack, client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    m = uuid.uuid4().hex
    first = client.responses.create(model="m", input=f"before {m}")
    second = client.responses.create(model="m", input=f"again {m}", previous_response_id=first.id)
    stack.restart_sidecar()
    assert client.responses.retrieve(first.id).model_dump() == first.model_dump()
    assert client.responses.retrieve(second.id).output_text == f"reply to: again {m}"
    assert len(client.responses.input_items.list(second.id).data) == 1
    recorder.clear()
    third = client.responses.create(model="m", input=f"after {m}", previous_response_id=second.id)
    assert third.previous_response_id == second.id
    [sent] = [r.body for r in recorder.requests if r.path == "/v1/responses"]
    replayed = [item["content"][0]["text"] for item in sent["input"]]
    assert replayed == [
        f"before {m}",
        f"reply to: before {m}",
        f"again {m}",
        f"reply to: again {m}",
        f"after {m}",
    ]


def _children(pid: int) -> dict[int, str]:
    """Live child processes of `pid`, by pid, with their command names."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(entry.name)] = name
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


class RunProcess:
    """`python -m extproc run`: embedded Valkey, sidecar and Envoy, as `make run` starts."""

    def __init__(self, backend_url: str, data_dir: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENRESPONSES_")}
        env |= {
            "OPENRESPONSES_BACKEND_URL": backend_url,
            "OPENRESPONSES_DATA_DIR": str(data_dir),
            "OPENRESPONSES_PORT": str(self.port),
            "OPENRESPONSES_ADMIN_PORT": str(free_port()),
            "OPENRESPONSES_EXTPROC_PORT": str(free_port()),
            "OPENRESPONSES_INTERNAL_PORT": str(free_port()),
            "OPENRESPONSES_METRICS_PORT": str(free_port()),
        }
        self.log = data_dir.parent / f"run-{self.port}.log"
        self._stderr: IO[bytes] = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "extproc", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            start_new_session=True,  # its own group: the finally can end all of it
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"not ready after {timeout}s: {self.log.read_text()}") from None
            if line is None:
                raise RuntimeError(f"exited before ready: {self.log.read_text()}")
            if line.startswith("openresponses-gw ready"):
                return

    def kill(self) -> None:
        """Whatever is left of the process group, however the test ended."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # also children it left behind
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def test_run_persists_across_restart(
    tmp_path: Path, backend: BackendThread, recorder: BackendRecorder
) -> None:
    data_dir = tmp_path / "data"
    m = uuid.uuid4().hex
    gateway = RunProcess(f"{backend.url}/v1", data_dir)
    try:
        gateway.wait_ready()
        with checked_sdk(gateway.base_url, api_key="sk-run", max_retries=0) as sdk:
            created = sdk.responses.create(model="m", input=f"persist {m}")
        assert created.output_text == f"reply to: persist {m}"
        children = _children(gateway.process.pid)
        assert sorted(children.values()) == ["envoy", "valkey-server"]
        gateway.process.send_signal(signal.SIGINT)
        assert gateway.process.wait(timeout=30) == 0
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        gateway.kill()

    gateway = RunProcess(f"{backend.url}/v1", data_dir)
    try:
        gateway.wait_ready()
        with checked_sdk(gateway.base_url, api_key="sk-run", max_retries=0) as sdk:
            retrieved = sdk.responses.retrieve(created.id)
            assert retrieved.model_dump() == created.model_dump()
            recorder.clear()
            chained = sdk.responses.create(
                model="m", input=f"later {m}", previous_response_id=created.id
            )
            assert chained.previous_response_id == created.id
        [sent] = [r.body for r in recorder.requests if r.path == "/v1/responses"]
        assert [item["role"] for item in sent["input"]] == ["user", "assistant", "user"]
        gateway.process.send_signal(signal.SIGINT)
        assert gateway.process.wait(timeout=30) == 0
    finally:
        gateway.kill()
