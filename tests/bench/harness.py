"""Building blocks of the benchmark: timed ``ansible-playbook`` runs and fresh simulators.

A run is wrapped in a small Python process that reports ``getrusage(RUSAGE_CHILDREN)``: the CPU
seconds (user + sys) of ``ansible-playbook`` and every module process it started, never the
simulators' (they are not its children). Module processes are counted by pointing
``ansible_python_interpreter`` at a shim that appends one line per start to a file, then execs the
real interpreter.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "simulator"))

from clustersim.testing import Simulator  # noqa: E402

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
WRAPPER = ("import json, resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
           "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(json.dumps({'user': u.ru_utime, 'sys': u.ru_stime, 'maxrss_kib': u.ru_maxrss})); sys.exit(code)")
# Real day-0 durations are long; these keep the simulated waits short but non-zero (as the tests do).
DAY0_DURATIONS = {"hco_progressing": 0.05, "registry_rollout": 0.05}


class Workdir(object):
    """A temporary directory with the interpreter shim, and inventories written into it."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="ocpvirt-bench-")
        self.path = self._tmp.name
        self.count_file = os.path.join(self.path, "module-processes")
        self.python = os.path.join(self.path, "python")
        with open(self.python, "w", encoding="utf-8") as handle:
            handle.write('#!/bin/sh\necho x >> "{0}"\nexec "{1}" "$@"\n'.format(self.count_file, sys.executable))
        os.chmod(self.python, 0o755)

    def inventory(self, kubeconfigs):
        """One host per cluster, each with its own kubeconfig (no global auth)."""
        hosts = dict(("cluster-{0:02d}".format(i), {"k8s_kubeconfig": path}) for i, path in enumerate(kubeconfigs))
        inventory = {"clusters": {"hosts": hosts, "vars": {"ansible_connection": "local"}}}
        path = os.path.join(self.path, "inventory-{0}.json".format(len(kubeconfigs)))
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(inventory, handle)
        return path

    def close(self):
        self._tmp.cleanup()


def run_playbook(workdir, playbook, kubeconfigs, forks=1, extra_vars=None):
    """Wall seconds, CPU seconds and module processes of one ``ansible-playbook`` run; raises on failure."""
    if os.path.exists(workdir.count_file):
        os.unlink(workdir.count_file)
    command = [sys.executable, "-c", WRAPPER, ANSIBLE_PLAYBOOK, os.path.join(REPO_ROOT, playbook),
               "-i", workdir.inventory(kubeconfigs), "-f", str(forks), "-e", "ansible_python_interpreter=" + workdir.python]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    env.pop("K8S_AUTH_KUBECONFIG", None)  # every host brings its own kubeconfig
    env.pop("ANSIBLE_CONFIG", None)
    load = os.getloadavg()[0]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError("{0} failed (rc {1}):\n{2}".format(playbook, completed.returncode, completed.stderr[-3000:]))
    usage = json.loads(completed.stdout.strip().splitlines()[-1])
    processes = 0
    if os.path.exists(workdir.count_file):
        with open(workdir.count_file, encoding="utf-8") as handle:
            processes = len(handle.readlines())
    return {"playbook": playbook, "wall_s": round(wall, 2), "cpu_s": round(usage["user"] + usage["sys"], 2),
            "user_s": round(usage["user"], 2), "sys_s": round(usage["sys"], 2), "module_processes": processes,
            "peak_rss_mb": round(usage["maxrss_kib"] / 1024.0, 1), "load_average": round(load, 2)}


def fresh_simulators(count, **options):
    """``count`` started simulators (stop them with ``stop_all``)."""
    simulators = []
    try:
        for dummy in range(count):
            simulators.append(Simulator(startup_timeout=180, **options).start())
            simulators[-1].settle(60)
    except Exception:
        stop_all(simulators)
        raise
    return simulators


def stop_all(simulators):
    for simulator in simulators:
        simulator.stop()


def median(values):
    return round(statistics.median(values), 3)
