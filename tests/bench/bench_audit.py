"""Benchmark (not a test): the readiness audit of a big cluster.

    make bench            # 100 workers / 5,000 VMs
    PYTHONPATH=simulator .venv/bin/python tests/bench/bench_audit.py --workers 100 --vms 5000

Starts a simulator, lets its operators settle, then runs ``readiness_info`` and
``vm_policy_info`` each in its own ``ansible-playbook`` and prints, per module, the wall time of
the playbook, its CPU time (ansible-playbook plus the module; the simulator's own CPU is not
counted) and the peak RSS of its largest process (the module or ansible-playbook itself), from
``getrusage(RUSAGE_CHILDREN)`` of a wrapper process. On a shared machine the wall time follows the
load average, which is printed with it. The goal: under 30 s and 500 MB on a 2-core
machine. Results also go to ``benchmarks/output/bench_audit.json`` (git-ignored).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "simulator"))

from clustersim.testing import Simulator  # noqa: E402

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# Runs one command and prints the peak RSS (KiB) of its largest descendant.
WRAPPER = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
           "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss); sys.exit(code)")
PLAYBOOK = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: {name}
      ocpvirt.portworx.{name}: {{}}
      register: result
    - name: Summary
      ansible.builtin.debug:
        msg: "{{{{ result.summary | default(result.audited) }}}}"
"""


def run_module(sim, name, workdir):
    playbook = os.path.join(workdir, name + ".yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(PLAYBOOK.format(name=name))
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=sim.kubeconfig, ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", WRAPPER, ANSIBLE_PLAYBOOK, playbook], cwd=REPO_ROOT, env=env,
                               capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        raise SystemExit("{0} failed:\n{1}\n{2}".format(name, completed.stdout, completed.stderr))
    cpu, rss = completed.stdout.split()[-2:]
    return {"module": name, "seconds": round(elapsed, 2), "cpu_seconds": round(float(cpu), 2),
            "peak_rss_mb": round(int(rss) / 1024.0, 1), "load_average": os.getloadavg()[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--vms", type=int, default=5000)
    parser.add_argument("--settle", type=float, default=120.0, help="max seconds to wait for the operators first")
    parser.add_argument("--output", default=os.path.join(REPO_ROOT, "benchmarks", "output", "bench_audit.json"))
    args = parser.parse_args()
    started = time.monotonic()
    with Simulator(workers=args.workers, vms=args.vms, startup_timeout=180) as sim:
        print("simulator with {0} workers / {1} VMs up in {2:.1f}s".format(args.workers, args.vms, time.monotonic() - started))
        print("operators settled: {0}".format(sim.settle(args.settle)))
        with tempfile.TemporaryDirectory() as workdir:
            results = [run_module(sim, name, workdir) for name in ("readiness_info", "vm_policy_info")]
    for result in results:
        verdict = "ok" if result["seconds"] < 30 and result["peak_rss_mb"] < 500 else "OVER BUDGET"
        print("{module}: {seconds}s wall ({cpu_seconds}s CPU of ansible-playbook and the module; load average {load_average:.1f}), "
              "peak RSS {peak_rss_mb} MB ({verdict})".format(verdict=verdict, **result))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump({"workers": args.workers, "vms": args.vms, "results": results, "cpus": os.cpu_count()}, handle, indent=2)
    print("written to {0}".format(args.output))


if __name__ == "__main__":
    main()
