"""Probe: a local Ray instance (``--ray`` without an address) listens on loopback only.

The instance is started as a study starts it (``study_executor.init_ray``), runs a task (so a worker
process with its own server exists), and then every listening socket of every process it
started is listed: each is on loopback (127.0.0.1, ::1, or ::ffff:127.0.0.1 on a dual-stack
socket). The setting that does it is put back after the
start, so this process could still join a cluster.
"""

from __future__ import annotations

import ipaddress
import os

import psutil
import pytest

from posebench.studies import study_executor

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.timeout(300)]


def _loopback(ip: str) -> bool:
    """127.0.0.1, ::1, or 127.0.0.1 as a dual-stack socket shows it (::ffff:127.0.0.1)."""
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _listening(pids: set[int]) -> list[tuple[int, str, int]]:
    out = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            out.append((conn.pid, conn.laddr.ip, conn.laddr.port))
    return out


def test_a_local_ray_instance_listens_on_loopback_only():
    if ray.is_initialized():
        pytest.skip("a Ray session of another test is open in this process")
    study_executor.init_ray(num_cpus=1, log_to_driver=False)
    try:

        @ray.remote(num_cpus=1)
        def where() -> int:
            return os.getpid()

        worker_pid = ray.get(where.remote(), timeout=120)
        started = {p.pid for p in psutil.Process().children(recursive=True)}
        assert worker_pid in started
        listening = _listening(started | {os.getpid()})
        assert len(listening) >= 3, listening  # GCS, raylet, object manager, worker ...
        assert all(_loopback(ip) for _pid, ip, _port in listening), listening
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ  # put back after the start
        from ray._private import ray_constants

        assert ray_constants.ENABLE_RAY_CLUSTER
    finally:
        ray.shutdown()
