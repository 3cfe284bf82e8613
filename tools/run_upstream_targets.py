#!/usr/bin/env python3
"""Run a collection's own integration targets against a fresh ``clustersim`` each.

It fetches nothing: give it a checkout of the collection's repository at the tag the installed
``ansible`` package bundles (see ``.venv/lib/python3.11/site-packages/ansible_collections/<ns>/<name>/MANIFEST.json``),
for example::

    git clone <mirror of ansible-collections/kubernetes.core> /tmp/kc && git -C /tmp/kc checkout 6.2.0
    .venv/bin/python tools/run_upstream_targets.py /tmp/kc --targets k8s_scale k8s_waiter
    .venv/bin/python tools/run_upstream_targets.py /tmp/kv --collection kubevirt.core

The checkout is copied (without ``.git``) into a temporary ``ansible_collections/<ns>/<name>``
tree, as ``ansible-test`` lays it out, so the targets' short module names resolve to the
collection under test; every other collection comes from the venv. Each target's ``runme.sh``
(or, without one, a playbook running the target as a role) runs against a simulator started
with ``python -m clustersim start``, its kubeconfig in ``~/.kube/config`` of a scratch ``HOME``
as on the collections' CI. The table
printed at the end (``--json`` for a file) names each target, its result and, for a failure,
the last failed task. Nothing here is part of ``make test``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"
SITE_COLLECTIONS = next((REPO_ROOT / ".venv" / "lib").glob("python3*/site-packages"), REPO_ROOT)
FAILED_TASK = re.compile(r"^TASK \[(?P<task>.*)\] \*+$")


def collection_name(checkout: Path) -> str:
    galaxy = checkout / "galaxy.yml"
    text = galaxy.read_text() if galaxy.exists() else ""
    namespace = re.search(r"^namespace:\s*(\S+)", text, re.M)
    name = re.search(r"^name:\s*(\S+)", text, re.M)
    if not namespace or not name:
        raise SystemExit(f"{checkout}: no galaxy.yml with namespace/name; pass --collection ns.name")
    return f"{namespace.group(1)}.{name.group(1)}"


def lay_out(checkout: Path, collection: str, work: Path) -> Path:
    namespace, name = collection.split(".")
    target = work / "ansible_collections" / namespace / name
    shutil.copytree(checkout, target, ignore=shutil.ignore_patterns(".git"))
    return target


def start_simulator(directory: Path, options: List[str]) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "simulator"))
    subprocess.run([str(VENV_BIN / "python"), "-m", "clustersim", "start", "--dir", str(directory), *options],
                   env=env, check=True, capture_output=True, timeout=120)
    return env


def stop_simulator(directory: Path, env: Dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "python"), "-m", "clustersim", "stop", "--dir", str(directory)], env=env,
                   capture_output=True, timeout=60)


def last_failed_task(output: str) -> str:
    """The last task whose failure was not ignored (ansible prints ``...ignoring`` after it)."""
    task = ""
    failed = ""
    pending = ""
    for line in output.splitlines():
        match = FAILED_TASK.match(line.strip())
        if match:
            failed, pending, task = failed or pending, "", match.group("task")
        elif line.startswith(("fatal:", "failed:")):
            pending = task
        elif line.strip() == "...ignoring":
            pending = ""
    return pending or failed


def target_environment(kubeconfig: Path, work: Path) -> Dict[str, str]:
    """The CI environment the targets expect: the cluster's kubeconfig as ``~/.kube/config`` in a
    scratch ``HOME`` and no ``KUBECONFIG`` / ``K8S_AUTH_KUBECONFIG`` (``k8s_full`` removes the
    default kubeconfig and expects the modules to fail then)."""
    home = work / "home"
    (home / ".kube").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kubeconfig, home / ".kube" / "config")
    env = dict(os.environ)
    for name in [n for n in env if n.startswith(("K8S_AUTH_", "KUBECONFIG"))]:
        env.pop(name)
    env.update(HOME=str(home), PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
               ANSIBLE_COLLECTIONS_PATH=f"{work}:{SITE_COLLECTIONS}", ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
               ANSIBLE_HOST_KEY_CHECKING="False")
    env.pop("ANSIBLE_CONFIG", None)
    return env


def run_target(target: Path, env: Dict[str, str], timeout: float, extra: List[str]) -> Dict[str, object]:
    if (target / "runme.sh").exists():
        command = ["bash", "runme.sh", "-v", *extra]
    else:
        playbook = target / "_clustersim_playbook.yml"
        playbook.write_text(f"- hosts: localhost\n  connection: local\n  gather_facts: false\n  roles:\n    - {target.name}\n")
        command = [str(VENV_BIN / "ansible-playbook"), playbook.name, "-v", *extra]
        env = dict(env, ANSIBLE_ROLES_PATH=str(target.parent))
    started = time.monotonic()
    try:
        completed = subprocess.run(command, cwd=target, env=env, capture_output=True, text=True, timeout=timeout)
        output, code = completed.stdout + completed.stderr, completed.returncode
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode(errors="replace") if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        code = "timeout"
    return {"target": target.name, "result": "pass" if code == 0 else "fail", "exit": code,
            "failed_task": "" if code == 0 else last_failed_task(output), "seconds": round(time.monotonic() - started, 1),
            "output": output}


def selected_targets(root: Path, wanted: Optional[List[str]]) -> List[Path]:
    targets = sorted(p for p in (root / "tests" / "integration" / "targets").iterdir() if p.is_dir())
    if wanted:
        return [p for p in targets if p.name in wanted]
    return [p for p in targets if not (p.name.startswith("setup_") or p.name == "remove_namespace")]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="the collection repository checked out at the bundled tag")
    parser.add_argument("--collection", help="ns.name (default: from galaxy.yml)")
    parser.add_argument("--targets", nargs="*", help="target names (default: all but setup_* / remove_namespace)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per target")
    parser.add_argument("--sim-option", action="append", default=[], help="extra `clustersim start` option, repeatable")
    parser.add_argument("--ansible-arg", action="append", default=[],
                        help="extra argument for the targets' ansible commands, e.g. -e=k8s_wait_timeout=120")
    parser.add_argument("--logs", type=Path, help="directory for each target's output")
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    collection = args.collection or collection_name(args.checkout)
    results = []
    with tempfile.TemporaryDirectory(prefix="upstream-targets-") as scratch:
        work = Path(scratch)
        root = lay_out(args.checkout.resolve(), collection, work)
        for target in selected_targets(root, args.targets):
            sim_dir = work / "sim"
            env = start_simulator(sim_dir, ["--vms", "0", *args.sim_option])
            try:
                result = run_target(target, target_environment(sim_dir / "kubeconfig", work), args.timeout,
                                    args.ansible_arg)
            finally:
                stop_simulator(sim_dir, env)
                shutil.rmtree(sim_dir, ignore_errors=True)
            if args.logs:
                args.logs.mkdir(parents=True, exist_ok=True)
                (args.logs / f"{target.name}.log").write_text(str(result["output"]))
            result.pop("output")
            results.append(result)
            print(f"{result['target']:32} {result['result']:5} {result['seconds']:7}s {result['failed_task']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["result"] == "pass" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
