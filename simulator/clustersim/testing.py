"""Test support: start a fresh simulator and talk to it.

    from clustersim.testing import Simulator, simulator_fixture

    with Simulator(workers=3, vms=4) as sim:
        client = sim.client()                      # kubernetes DynamicClient
        sim.reset_requests()
        ...                                        # run the code under test against sim.kubeconfig
        assert sim.writes() == 0
        sim.request("GET", "/api/v1/nodes")        # raw HTTPS with the admin token
        urllib.request.urlopen(sim.url + "/healthz", context=sim.ssl_context)

    # conftest.py — one fresh simulator per test module:
    sim = simulator_fixture(scope="module", vms=2)

``Simulator`` runs the server in a subprocess (default; the same code path as ``make sim-start``)
or, with ``in_process=True``, in a thread of the test process, which exposes ``.cluster`` for
white-box tests of operators.

The server speaks HTTPS with a certificate from a CA made at start: ``sim.kubeconfig`` carries the
CA (``certificate-authority-data``), ``sim.ca_file`` is the CA as a PEM file and
``sim.ssl_context`` an ``ssl.SSLContext`` trusting it, for hand-made requests
(``sim.connection()`` opens an ``http.client`` connection with it).  ``insecure_http=True``
serves plain HTTP instead (then ``ssl_context`` is None).  The kubeconfig's current context is
``kube:admin``'s token; its ``admin`` context is ``system:admin``'s client certificate
(``kubeconfig.py``).
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SimulatorError(RuntimeError):
    pass


class Simulator:
    def __init__(self, workers: Optional[int] = None, vms: Optional[int] = None, profile: Optional[str] = None,
                 durations: Optional[Dict[str, float]] = None, faults: Optional[List[Dict[str, Any]]] = None,
                 state: Optional[str] = None, time_scale: Optional[float] = None, operators: Optional[List[str]] = None,
                 in_process: bool = False, startup_timeout: float = 120.0, env: Optional[Dict[str, str]] = None,
                 insecure_http: bool = False, hidden_apis: Optional[List[str]] = None) -> None:
        self.options = dict(workers=workers, vms=vms, profile=profile, durations=durations, faults=faults,
                            state=state, time_scale=time_scale, operators=operators, hidden_apis=hidden_apis)
        self.insecure_http = insecure_http
        self.in_process = in_process
        # A deadline, not a wait: a start takes under a second of CPU, but one took over 30 s on a 2-core
        # machine running several test suites at once.
        self.startup_timeout = startup_timeout
        self.env = env or {}
        self.tmpdir: Optional[str] = None
        self.kubeconfig: str = ""
        self.url: str = ""
        self.token: str = ""
        self.port: int = 0
        self.ca_file: str = ""  # the CA that signed the server's certificate (PEM); "" over plain HTTP
        self.ssl_context: Optional[ssl.SSLContext] = None
        self.process: Optional[subprocess.Popen] = None
        self.cluster = None  # set when in_process
        self._server = None
        self._api_client = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> "Simulator":
        self.tmpdir = tempfile.mkdtemp(prefix="clustersim-")
        self.kubeconfig = os.path.join(self.tmpdir, "kubeconfig")
        if self.in_process:
            self._start_in_process()
        else:
            self._start_subprocess()
        return self

    def _start_in_process(self) -> None:
        from . import tls
        from .cluster import build_cluster
        from .config import Config
        from .kubeconfig import write_kubeconfig
        from .server import SimServer

        opts = self.options
        config = Config.from_env(workers=opts["workers"], vms=opts["vms"], profile=opts["profile"],
                                 durations=opts["durations"], faults=opts["faults"], state_file=opts["state"],
                                 time_scale=opts["time_scale"], operators=opts["operators"],
                                 hidden_apis=opts["hidden_apis"])
        self.cluster = build_cluster(config)
        serving = None if self.insecure_http else tls.generate()
        if serving and self.cluster.has_controller("root-ca-cert-publisher"):  # before the first request
            self.cluster.controller("root-ca-cert-publisher").set_ca_bundle(serving.ca_pem.decode())
        self._server = SimServer(self.cluster, serving=serving).start()
        self.url, self.port, self.token = self._server.url, self._server.port, self.cluster.token
        self._trust(serving.ca_pem.decode() if serving else None)
        write_kubeconfig(self.kubeconfig, self.url, self.token, serving.ca_pem if serving else None,
                         serving.admin_certificate if serving else None)

    def _trust(self, ca_pem: Optional[str]) -> None:
        """Remember the server's CA for hand-made requests."""
        if not ca_pem:
            return
        assert self.tmpdir is not None
        self.ca_file = os.path.join(self.tmpdir, "ca.crt")
        with open(self.ca_file, "w", encoding="utf-8") as handle:
            handle.write(ca_pem)
        self.ssl_context = ssl.create_default_context(cadata=ca_pem)

    def _start_subprocess(self) -> None:
        assert self.tmpdir is not None
        ready = os.path.join(self.tmpdir, "ready.json")
        command = [sys.executable, "-m", "clustersim", "serve", "--port", "0", "--kubeconfig", self.kubeconfig,
                   "--ready-file", ready]
        opts = self.options
        for name in ("workers", "vms", "profile", "state", "time_scale"):
            if opts[name] is not None:
                command += [f"--{name.replace('_', '-')}", str(opts[name])]
        if opts["durations"]:
            command += ["--durations", json.dumps(opts["durations"])]
        if opts["faults"]:
            command += ["--faults", json.dumps(opts["faults"])]
        if opts["operators"] is not None:
            command += ["--operators", ",".join(opts["operators"]) or ","]
        if opts["hidden_apis"]:
            command += ["--hide-apis", ",".join(opts["hidden_apis"])]
        if self.insecure_http:
            command.append("--insecure-http")
        env = dict(os.environ, **self.env)
        env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._log_path = os.path.join(self.tmpdir, "server.log")
        log = open(self._log_path, "wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while not os.path.exists(ready):
            if self.process.poll() is not None:
                raise SimulatorError(f"simulator exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise SimulatorError(f"simulator did not start within {self.startup_timeout}s:\n{self.log()}")
            time.sleep(0.02)
        with open(ready, encoding="utf-8") as handle:
            info = json.load(handle)
        self.url, self.port, self.token = info["url"], info["port"], info["token"]
        self._trust(info.get("certificate_authority"))

    def log(self) -> str:
        path = getattr(self, "_log_path", None)
        if not path or not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        if self._api_client is not None:
            try:
                self._api_client.close()
            except Exception:
                pass
            self._api_client = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---------------------------------------------------------------- clients
    def api_client(self):
        """A kubernetes ``ApiClient`` configured from the simulator's kubeconfig (cached)."""
        if self._api_client is None:
            from kubernetes import config as kube_config

            self._api_client = kube_config.new_client_from_config(config_file=self.kubeconfig)
        return self._api_client

    def client(self):
        """A kubernetes ``DynamicClient`` (fresh discovery cache file per simulator)."""
        from kubernetes.dynamic import DynamicClient
        from kubernetes.dynamic.discovery import LazyDiscoverer

        assert self.tmpdir is not None
        return DynamicClient(self.api_client(), cache_file=os.path.join(self.tmpdir, "discovery.json"),
                             discoverer=LazyDiscoverer)

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        """A new, connected ``http.client`` connection to the server (HTTPS trusting its CA, or
        plain HTTP), with Nagle's algorithm off as Go's and urllib3's clients have it (otherwise
        delayed ACKs add milliseconds to requests on a kept-alive TLS connection)."""
        if self.ssl_context is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        else:
            connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                                     context=self.ssl_context)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    # ---------------------------------------------------------------- admin API
    def request(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        """Call the simulator with the admin token; returns decoded JSON (raises on >= 400)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            payload = error.read()
            raise SimulatorError(f"{method} {path} -> {error.code}: {payload.decode(errors='replace')}") from None
        return json.loads(payload) if payload else None

    def requests(self, entries: bool = False) -> Dict[str, Any]:
        return self.request("GET", "/_sim/requests" + ("?entries=1" if entries else ""))

    def reset_requests(self) -> None:
        self.request("DELETE", "/_sim/requests")

    def writes(self) -> int:
        """Non-dry-run write requests (create/update/patch/delete/deletecollection) since the last reset."""
        return int(self.requests()["writes"])

    def changing_writes(self) -> int:
        """Write requests since the last reset that changed stored state (no-op patches excluded)."""
        return int(self.requests()["changing_writes"])

    def add_fault(self, **rule: Any) -> Dict[str, Any]:
        """HTTP fault rule (verb, resource, name, namespace, subresource, code, count, rate,
        latency_ms, drop, retry_after, message) or operator fault (operator=..., target=..., count=...)."""
        return self.request("POST", "/_sim/faults", rule)["added"][0]

    def clear_faults(self) -> None:
        self.request("DELETE", "/_sim/faults")

    def faults(self) -> Dict[str, Any]:
        return self.request("GET", "/_sim/faults")

    def reset(self) -> None:
        """Reseed the cluster, clear faults and the request log."""
        self.request("POST", "/_sim/reset")

    def dump(self) -> Dict[str, Any]:
        return self.request("GET", "/_sim/state")

    def load(self, state: Any) -> None:
        self.request("PUT", "/_sim/state", state)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the simulated operators are idle."""
        try:
            return bool(self.request("POST", f"/_sim/settle?timeout={timeout}", timeout=timeout + 5)["settled"])
        except SimulatorError:
            return False

    def status(self) -> Dict[str, Any]:
        return self.request("GET", "/_sim/status")


def eventually(what: str, probe: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``probe()`` until it returns something truthy (returned) or ``timeout`` seconds pass.

    For tests that wait on simulated operators: a bounded deadline instead of fixed sleeps.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def simulator_fixture(scope: str = "module", name: str = "sim", **options: Any):
    """Build a pytest fixture that yields a started :class:`Simulator`.

    Use in a conftest: ``sim = simulator_fixture(scope="module", vms=2)``.
    """
    import pytest

    @pytest.fixture(scope=scope, name=name)
    def _fixture():
        with Simulator(**options) as simulator:
            yield simulator

    return _fixture
