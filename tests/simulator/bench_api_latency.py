"""Benchmark (not a test): per-request latency of the simulator at scale.

    PYTHONPATH=simulator .venv/bin/python tests/simulator/bench_api_latency.py --workers 100 --vms 5000 --clients 8

Starts a simulator subprocess, lets its operators settle (bounded by --settle), then runs
concurrent clients doing get / list-in-namespace / label-selected lists / field-selected pod lists
and a few writes, and prints p50/p95/p99 per request kind.  Latency is measured over bare
keep-alive HTTPS connections so client-side deserialisation does not hide server cost.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "simulator"))

from clustersim.testing import Simulator  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run_client(sim, plan, iterations, results, lock):
    connection = sim.connection(timeout=60)
    headers = {"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"}
    local = {}
    for i in range(iterations):
        for label, method, path, body in plan(i):
            started = time.perf_counter()
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            response.read()
            local.setdefault(label, []).append((time.perf_counter() - started) * 1000)
            if response.status >= 400 and response.status != 409:
                local.setdefault(f"{label} errors", []).append(response.status)
    connection.close()
    with lock:
        for label, values in local.items():
            results.setdefault(label, []).extend(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--vms", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--settle", type=float, default=60.0, help="max seconds to wait for operators first")
    args = parser.parse_args()

    started = time.monotonic()
    with Simulator(workers=args.workers, vms=args.vms, startup_timeout=120) as sim:
        print(f"started with {args.workers} workers / {args.vms} VMs in {time.monotonic() - started:.2f}s")
        settle_start = time.monotonic()
        settled = sim.settle(args.settle)
        print(f"operators settled={settled} after {time.monotonic() - settle_start:.1f}s")
        width = max(3, len(str(args.vms)))

        def plan(i):
            vm = f"vm-{(i * 37) % args.vms:0{width}d}"
            node = f"worker-{i % args.workers}"
            return [
                ("get vm", "GET", f"/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/{vm}", None),
                ("get pvc", "GET", f"/api/v1/namespaces/vms/persistentvolumeclaims/{vm}-rootdisk", None),
                ("list pods on node", "GET", f"/api/v1/pods?fieldSelector=spec.nodeName%3D{node}", None),
                ("list vm by label", "GET", f"/apis/kubevirt.io/v1/namespaces/vms/virtualmachines?labelSelector=app%3D{vm}", None),
                ("list storageclasses", "GET", "/apis/storage.k8s.io/v1/storageclasses", None),
                ("list small namespace", "GET", "/api/v1/namespaces/portworx/configmaps", None),
                ("get node", "GET", f"/api/v1/nodes/{node}", None),
                ("patch configmap", "PATCH", "/api/v1/namespaces/default/configmaps/bench", None),
            ][:7] + [("create+delete configmap", "POST", "/api/v1/namespaces/default/configmaps",
                      {"metadata": {"generateName": "bench-"}})]

        results, lock = {}, threading.Lock()
        threads = [threading.Thread(target=run_client, args=(sim, plan, args.iterations, results, lock))
                   for _ in range(args.clients)]
        bench_start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - bench_start
        total = sum(len(v) for k, v in results.items() if not k.endswith("errors"))
        print(f"{total} requests from {args.clients} clients in {elapsed:.1f}s ({total / elapsed:.0f} req/s)")
        print(f"{'request':28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        for label in sorted(results):
            values = results[label]
            if label.endswith("errors"):
                print(f"{label:28} {len(values):>6}  codes={sorted(set(values))}")
                continue
            print(f"{label:28} {len(values):>6} {statistics.median(values):8.2f} {percentile(values, 0.95):8.2f} "
                  f"{percentile(values, 0.99):8.2f} {statistics.mean(values):8.2f}")


if __name__ == "__main__":
    main()
