"""A real Redis Cluster for the tests: three masters with a replica each, on 127.0.0.1.

The cluster is assembled with CLUSTER commands (ADDSLOTSRANGE, MEET, REPLICATE) rather
than `redis-cli --cluster create`, so the embedded Valkey binary does as well as Debian's
redis-server."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import redis

from storage.redis.embedded import server_binary
from support.harness import wait_until

_SLOTS = 16384


def _cluster_port() -> int:
    """A free port whose cluster bus port (10,000 higher, which must stay a port) is
    free as well."""
    while True:
        port = random.randint(20000, 55000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


class RedisCluster:
    def __init__(self, masters: int = 3) -> None:
        self.masters = masters
        self.ports = [_cluster_port() for _ in range(masters * 2)]
        self.dir = Path(tempfile.mkdtemp(prefix="or-cluster-"))
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """A seed node."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def start_node(self, port: int) -> None:
        node_dir = self.dir / str(port)
        node_dir.mkdir(exist_ok=True)
        binary = shutil.which("redis-server") or str(server_binary())
        self.processes[port] = subprocess.Popen(
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(node_dir),
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000",
                "--appendonly", "yes",
                "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

        def answers() -> bool:
            try:
                return bool(self._client(port).ping())
            except redis.RedisError:
                return False

        wait_until(answers, 60, f"cluster node {port}")

    def start(self) -> RedisCluster:
        try:
            for port in self.ports:
                self.start_node(port)
            self._assemble()
        except BaseException:
            self.stop()
            raise
        return self

    def _assemble(self) -> None:
        masters, replicas = self.ports[: self.masters], self.ports[self.masters :]
        share = _SLOTS // self.masters
        for i, port in enumerate(masters):
            last = _SLOTS - 1 if i == self.masters - 1 else (i + 1) * share - 1
            self._client(port).execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
        for port in self.ports[1:]:
            self._client(port).execute_command("CLUSTER", "MEET", "127.0.0.1", self.ports[0])
        wait_until(
            lambda: all(self._known(port) == len(self.ports) for port in self.ports),
            30,
            "the nodes to meet",
        )
        for master, replica in zip(masters, replicas, strict=True):
            node_id = self._client(master).execute_command("CLUSTER", "MYID")
            self._client(replica).execute_command("CLUSTER", "REPLICATE", node_id)
        wait_until(self.healthy, 30, "the cluster to settle")

    def _known(self, port: int) -> int:
        nodes = self._client(port).execute_command("CLUSTER", "NODES")
        text = nodes.decode() if isinstance(nodes, bytes) else str(nodes)
        return len([line for line in text.splitlines() if line.strip()])

    def healthy(self) -> bool:
        """Every running node says the cluster is ok and every replica is in sync."""
        for port in self.processes:
            try:
                info = self._client(port).execute_command("CLUSTER", "INFO")
                text = info.decode() if isinstance(info, bytes) else str(info)
                if "cluster_state:ok" not in text:
                    return False
                role = self._client(port).info("replication")
                if role.get("role") == "slave" and role.get("master_link_status") != "up":
                    return False
            except redis.RedisError:
                return False
        return True

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = {}
        shutil.rmtree(self.dir, ignore_errors=True)
