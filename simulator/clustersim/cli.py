"""Command line: ``python -m clustersim serve|start|stop|status``.

``serve`` runs in the foreground; ``start`` launches ``serve`` in the background, writes
``<dir>/kubeconfig``, ``<dir>/ca.crt``, ``<dir>/pid``, ``<dir>/port``, ``<dir>/server.log`` and
returns once the server answers; ``stop`` ends it; ``status`` reports whether it runs.

The server speaks HTTPS with a certificate signed by a CA made at start (``tls.py``); the
kubeconfig carries that CA, and two users: ``kube:admin``'s token (context ``clustersim``, current
by default) and ``system:admin``'s client certificate (context ``admin``; ``--current-context
admin`` makes it current), see ``kubeconfig.py``.  ``--insecure-http`` serves plain HTTP instead, for debugging only.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from typing import Any, Dict, List, Optional

from .config import Config, load_json_or_path
from .kubeconfig import CONTEXTS


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the server here")
    parser.add_argument("--workers", type=int, help="worker nodes (default $SIM_WORKERS or 3)")
    parser.add_argument("--vms", type=int, help="running VMs (default $SIM_VMS or 4)")
    parser.add_argument("--profile", help="seed profile: default or empty")
    parser.add_argument("--state", help="load this JSON/YAML state dump instead of the profile")
    parser.add_argument("--faults", help="fault rules: JSON list/object inline or a JSON/YAML file")
    parser.add_argument("--durations", help='simulated durations in seconds, JSON inline or file: {"migration": 0.2}')
    parser.add_argument("--time-scale", type=float, help="multiply every simulated duration")
    parser.add_argument("--seed", type=int, help="random seed (generateName, fault rates)")
    parser.add_argument("--token", help="bearer token (default: random)")
    parser.add_argument("--operators", help="comma-separated operator modules to load (default: all)")
    parser.add_argument("--hide-apis", help="comma-separated group/versions not to serve, e.g. snapshot.storage.k8s.io/v1")
    parser.add_argument("--insecure-http", action="store_true", default=None,
                        help="serve plain HTTP instead of HTTPS (debugging only: kubectl sends no token over it)")
    parser.add_argument("--current-context", choices=CONTEXTS,
                        help="the kubeconfig's current context: clustersim (default) is kube:admin with an OAuth "
                             "token, as `oc login` writes; admin is system:admin with a client certificate, as the "
                             "installer's auth/kubeconfig")
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)


def _config_from_args(args: argparse.Namespace) -> Config:
    faults = load_json_or_path(args.faults) if args.faults else None
    if isinstance(faults, dict):
        faults = faults.get("faults", [faults])
    return Config.from_env(
        workers=args.workers, vms=args.vms, profile=args.profile, state_file=args.state,
        durations=load_json_or_path(args.durations) if args.durations else None,
        time_scale=args.time_scale, seed=args.seed, token=args.token, faults=faults,
        operators=[o for o in args.operators.split(",") if o] if args.operators else None,
        hidden_apis=[g for g in args.hide_apis.split(",") if g] if args.hide_apis else None,
        insecure_http=args.insecure_http,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from . import tls
    from .cluster import build_cluster
    from .kubeconfig import write_kubeconfig, write_private
    from .server import SimServer

    started = time.monotonic()
    config = _config_from_args(args)
    cluster = build_cluster(config)
    serving = None if config.insecure_http else tls.generate(tls.serving_hosts(args.host))
    ca_pem = serving.ca_pem if serving else None
    if ca_pem and cluster.has_controller("root-ca-cert-publisher"):  # before the first request
        cluster.controller("root-ca-cert-publisher").set_ca_bundle(ca_pem.decode())
    server = SimServer(cluster, args.host, args.port, serving)
    if args.kubeconfig:
        write_kubeconfig(args.kubeconfig, server.url, cluster.token, ca_pem,
                         serving.admin_certificate if serving else None, args.current_context or CONTEXTS[0])
    info = {"url": server.url, "port": server.port, "pid": os.getpid(), "kubeconfig": args.kubeconfig,
            "startup_seconds": round(time.monotonic() - started, 3), "operators": cluster.operators}
    if args.ready_file:
        ready = dict(info, token=cluster.token, certificate_authority=ca_pem.decode() if ca_pem else None)
        write_private(args.ready_file, json.dumps(ready).encode())
    print(f"clustersim listening on {server.url} ({json.dumps(info)})", flush=True)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _paths(directory: str) -> dict:
    return {name: os.path.join(directory, name)
            for name in ("kubeconfig", "ca.crt", "pid", "port", "server.log", "ready.json")}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ProcessLookupError):
        return False
    return True


def _read_pid(directory: str) -> Optional[int]:
    try:
        with open(_paths(directory)["pid"], encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def cmd_start(args: argparse.Namespace) -> int:
    directory = os.path.abspath(args.dir)
    paths = _paths(directory)
    os.makedirs(directory, exist_ok=True)
    pid = _read_pid(directory)
    if pid and _alive(pid):
        print(f"clustersim already running (pid {pid}); kubeconfig {paths['kubeconfig']}")
        return 0
    if os.path.exists(paths["ready.json"]):
        os.remove(paths["ready.json"])
    forwarded: List[str] = []
    for option in ("host", "port", "workers", "vms", "profile", "state", "faults", "durations", "time_scale",
                   "seed", "token", "operators", "insecure_http", "hide_apis", "current_context"):
        value = getattr(args, option)
        if value is None:
            continue
        if value is True:
            forwarded.append(f"--{option.replace('_', '-')}")
            continue
        if option in ("state", "faults", "durations") and not str(value).lstrip().startswith(("{", "[")):
            value = os.path.abspath(value)  # the server runs with --dir as its working directory
        forwarded += [f"--{option.replace('_', '-')}", str(value)]
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    command = [sys.executable, "-m", "clustersim", "serve", "--kubeconfig", paths["kubeconfig"],
               "--ready-file", paths["ready.json"], *forwarded]
    with open(paths["server.log"], "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True, cwd=directory)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"clustersim exited with {process.returncode}; see {paths['server.log']}", file=sys.stderr)
            return 1
        if os.path.exists(paths["ready.json"]):
            info = _read_ready(paths["ready.json"])
            if _healthy(info):
                with open(paths["pid"], "w", encoding="utf-8") as handle:
                    handle.write(str(process.pid))
                with open(paths["port"], "w", encoding="utf-8") as handle:
                    handle.write(str(info["port"]))
                if info.get("certificate_authority"):
                    with open(paths["ca.crt"], "w", encoding="utf-8") as handle:
                        handle.write(info["certificate_authority"])
                print(f"clustersim started: {info['url']} (pid {process.pid}); "
                      f"export KUBECONFIG={paths['kubeconfig']}")
                return 0
        time.sleep(0.05)
    process.terminate()
    print(f"clustersim did not become ready within {args.timeout}s; see {paths['server.log']}", file=sys.stderr)
    return 1


def _read_ready(path: str) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _client_context(info: Dict[str, Any]) -> Optional[ssl.SSLContext]:
    """An SSL context trusting the server's CA (None for a plain HTTP server)."""
    ca = info.get("certificate_authority")
    return ssl.create_default_context(cadata=ca) if ca else None


def _healthy(info: Dict[str, Any]) -> bool:
    try:
        with urllib.request.urlopen(info["url"] + "/healthz", timeout=1, context=_client_context(info)) as response:
            return response.status == 200
    except OSError:
        return False


def cmd_stop(args: argparse.Namespace) -> int:
    directory = os.path.abspath(args.dir)
    pid = _read_pid(directory)
    if not pid or not _alive(pid):
        print("clustersim is not running")
        _cleanup(directory)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _cleanup(directory)
    print(f"clustersim stopped (pid {pid})")
    return 0


def _cleanup(directory: str) -> None:
    for name in ("pid", "port", "ready.json", "ca.crt"):
        path = _paths(directory)[name]
        if os.path.exists(path):
            os.remove(path)


def cmd_status(args: argparse.Namespace) -> int:
    directory = os.path.abspath(args.dir)
    pid = _read_pid(directory)
    if pid and _alive(pid):
        try:
            url = _read_ready(_paths(directory)["ready.json"])["url"]
        except (OSError, ValueError, KeyError):
            with open(_paths(directory)["port"], encoding="utf-8") as handle:
                url = f"port {handle.read().strip()}"
        print(f"clustersim running: pid {pid}, {url}, kubeconfig {_paths(directory)['kubeconfig']}")
        return 0
    print("clustersim is not running")
    return 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clustersim", description="Local OpenShift Virtualization + Portworx API simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run in the foreground")
    _add_server_options(serve)
    serve.set_defaults(func=cmd_serve)
    start = commands.add_parser("start", help="run in the background")
    _add_server_options(start)
    start.add_argument("--dir", default=".sim")
    start.add_argument("--timeout", type=float, default=30.0)
    start.set_defaults(func=cmd_start)
    for name, func in (("stop", cmd_stop), ("status", cmd_status)):
        sub = commands.add_parser(name)
        sub.add_argument("--dir", default=".sim")
        sub.set_defaults(func=func)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "current_context", None) == "admin" and _config_from_args(args).insecure_http:
        parser.error("--current-context admin needs TLS: a client certificate cannot go over --insecure-http")
    return args.func(args)
