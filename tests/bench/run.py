"""Benchmark harness (not a test): ``make bench``, or ``.venv/bin/python tests/bench/run.py [--quick] [scenario ...]``.

Each scenario runs on fresh simulators, candidates alternating within one run, and the figures go
to stdout, ``benchmarks/output/bench.json`` and ``benchmarks/output/bench.svg`` (git-ignored).
CPU seconds are those of ``ansible-playbook`` and its module processes (user + sys), never the
simulators'. On a shared machine wall times follow the load average, printed with every figure;
module processes and CPU seconds are the steadier measures.
"""
import argparse
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_audit  # noqa: E402
import chart  # noqa: E402
from harness import DAY0_DURATIONS, REPO_ROOT, Simulator, Workdir, fresh_simulators, median, run_playbook, stop_all  # noqa: E402

DAY0 = "playbooks/day0.yml"
BASELINE = "benchmarks/baseline_day0.yml"
MAINTENANCE = "playbooks/day2_node_maintenance.yml"
# Simulated live migrations of a few seconds (a 4 GiB guest: ~4 s), long against the timestamps' one-second precision.
MIGRATION_SECONDS_PER_GIB = 1.0


def day0_pairs(workdir, args):
    """Day 0 against the plain kubernetes.core baseline, alternating, each on a fresh simulator;
    the idempotent re-run of day 0 on the same simulator right after its first run."""
    pairs = []
    for index in range(args.pairs):
        order = (DAY0, BASELINE) if index % 2 == 0 else (BASELINE, DAY0)
        runs = {}
        for playbook in order:
            (simulator,) = fresh_simulators(1, vms=args.day0_vms, durations=DAY0_DURATIONS)
            try:
                runs[playbook] = run_playbook(workdir, playbook, [simulator.kubeconfig])
                if playbook == DAY0:
                    runs["rerun"] = run_playbook(workdir, playbook, [simulator.kubeconfig])
            finally:
                stop_all([simulator])
        pairs.append({"day0": runs[DAY0], "baseline": runs[BASELINE], "rerun": runs["rerun"],
                      "ratio": round(runs[DAY0]["wall_s"] / runs[BASELINE]["wall_s"], 3),
                      "rerun_ratio": round(runs["rerun"]["wall_s"] / runs[DAY0]["wall_s"], 3)})
        print("  pair {0}: day0 {1[wall_s]}s ({1[cpu_s]} CPU-s, {1[module_processes]} module processes), baseline {2[wall_s]}s "
              "({2[cpu_s]} CPU-s, {2[module_processes]}), re-run {3[wall_s]}s ({3[cpu_s]} CPU-s, {3[module_processes]}); "
              "load {1[load_average]}".format(index + 1, runs[DAY0], runs[BASELINE], runs["rerun"]), flush=True)
    return {
        "pairs": pairs,
        "day0_vs_baseline": median([p["ratio"] for p in pairs]),
        "rerun_vs_first": median([p["rerun_ratio"] for p in pairs]),
        "day0_cpu_s": median([p["day0"]["cpu_s"] for p in pairs]),
        "baseline_cpu_s": median([p["baseline"]["cpu_s"] for p in pairs]),
        "rerun_cpu_s": median([p["rerun"]["cpu_s"] for p in pairs]),
        "day0_module_processes": pairs[0]["day0"]["module_processes"],
        "baseline_module_processes": pairs[0]["baseline"]["module_processes"],
    }


def fleet(workdir, args):
    """Day 0 on N simulated clusters at once (-f N, one kubeconfig per host): wall time against CPU."""
    simulators = fresh_simulators(args.clusters, vms=args.day0_vms, durations=DAY0_DURATIONS)
    try:
        run = run_playbook(workdir, DAY0, [s.kubeconfig for s in simulators], forks=args.clusters)
    finally:
        stop_all(simulators)
    cores = os.cpu_count() or 1
    per_cluster = run["cpu_s"] / args.clusters
    bound = 1.2 * args.clusters * per_cluster / cores
    return {"clusters": args.clusters, "cores": cores, "run": run, "cpu_s_per_cluster": round(per_cluster, 2),
            "cpu_bound_s": round(bound, 2), "wall_vs_cpu_bound": round(run["wall_s"] / bound, 3)}


def maintenance(workdir, args):
    """Rolling maintenance of N workers against the sum of the simulated migration times + 2 s per node."""
    durations = {"migration_transfer_per_gib": MIGRATION_SECONDS_PER_GIB}
    with Simulator(workers=args.maintenance_workers, vms=args.maintenance_vms, durations=durations, startup_timeout=180) as simulator:
        simulator.settle(60)
        nodes = ["worker-{0}".format(i) for i in range(args.maintenance_nodes)]
        run = run_playbook(workdir, MAINTENANCE, [simulator.kubeconfig], extra_vars={
            "node_maintenance_nodes": nodes, "node_maintenance_campaign": "bench-{0}".format(int(time.time()))})
        migrations = list(migration_seconds(simulator))
        migration_s = sum(migrations)
    budget = migration_s + 2.0 * len(nodes)
    return {"nodes": len(nodes), "migrations": len(migrations), "run": run, "migration_s": round(migration_s, 2), "budget_s": round(budget, 2),
            "wall_vs_budget": round(run["wall_s"] / budget, 3) if budget else None}


def migration_seconds(simulator):
    """Creation to the last phase transition of every VirtualMachineInstanceMigration.

    Kubernetes timestamps have second precision, so each figure is good to about a second; the
    scenario makes migrations last seconds (``migration_transfer_per_gib``) for that reason.
    """
    from kubernetes import dynamic

    client = dynamic.DynamicClient(simulator.api_client())
    resource = client.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachineInstanceMigration")
    for item in resource.get().to_dict().get("items", []):
        stamps = [t["phaseTransitionTimestamp"] for t in (item.get("status") or {}).get("phaseTransitionTimestamps") or []]
        if stamps:
            yield (parse_time(max(stamps)) - parse_time(item["metadata"]["creationTimestamp"])).total_seconds()


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def audit(workdir, args):
    """The readiness audit at scale, and how long the simulator takes to settle there."""
    started = time.monotonic()
    with Simulator(workers=args.audit_workers, vms=args.audit_vms, startup_timeout=300) as simulator:
        up = time.monotonic() - started
        settle_started = time.monotonic()
        settled = simulator.settle(args.settle)
        settle = time.monotonic() - settle_started
        results = [bench_audit.run_module(simulator, name, workdir.path) for name in ("readiness_info", "vm_policy_info")]
    return {"workers": args.audit_workers, "vms": args.audit_vms, "simulator_start_s": round(up, 2),
            "simulator_settle_s": round(settle, 2), "settled": settled, "modules": results}


SCENARIOS = {"day0": day0_pairs, "fleet": fleet, "maintenance": maintenance, "audit": audit}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", help="any of: " + ", ".join(sorted(SCENARIOS)) + " (default: all)")
    parser.add_argument("--quick", action="store_true", help="one pair, 3 clusters, small audit: for development")
    parser.add_argument("--output", default=os.path.join(REPO_ROOT, "benchmarks", "output"))
    args = parser.parse_args()
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error("unknown scenario(s): " + ", ".join(unknown))
    quick = args.quick
    args.pairs = 1 if quick else 3
    args.day0_vms = 2
    args.clusters = 3 if quick else 10
    args.maintenance_workers, args.maintenance_vms, args.maintenance_nodes = (4, 8, 2) if quick else (6, 24, 4)
    args.audit_workers, args.audit_vms = (10, 200) if quick else (100, 5000)
    args.settle = 300.0
    return args


def main():
    args = parse_args()
    workdir = Workdir()
    report = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(), "cpus": os.cpu_count(),
              "load_average_start": os.getloadavg(), "quick": args.quick}
    try:
        for name in args.scenarios or list(SCENARIOS):
            print("{0} ...".format(name), flush=True)
            report[name] = SCENARIOS[name](workdir, args)
            print(summary_line(name, report[name]), flush=True)
    finally:
        workdir.close()
    report["load_average_end"] = os.getloadavg()
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "bench.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    chart.write_svg(report, os.path.join(args.output, "bench.svg"))
    print("written to {0}/bench.json and bench.svg".format(args.output))


def summary_line(name, result):
    if name == "day0":
        return ("day 0 / plain kubernetes.core: {day0_vs_baseline}x (median of {n} pairs; {day0_module_processes} vs "
                "{baseline_module_processes} module processes, {day0_cpu_s} vs {baseline_cpu_s} CPU-s); re-run / first run: "
                "{rerun_vs_first}x ({rerun_cpu_s} CPU-s); controller CPU per cluster {day0_cpu_s} s").format(n=len(result["pairs"]), **result)
    if name == "fleet":
        return ("fleet of {clusters} (-f {clusters}, {cores} cores): {run[wall_s]}s wall, {cpu_s_per_cluster} CPU-s per cluster, "
                "CPU bound 1.2 x N x CPU / cores = {cpu_bound_s}s, wall / bound {wall_vs_cpu_bound}; load {run[load_average]}").format(**result)
    if name == "maintenance":
        return ("rolling maintenance of {nodes} nodes: {run[wall_s]}s against sum of {migrations} migrations {migration_s}s + 2 s/node = "
                "{budget_s}s ({wall_vs_budget}x); load {run[load_average]}").format(**result)
    modules = "; ".join("{module} {seconds}s, {cpu_seconds} CPU-s, peak RSS {peak_rss_mb} MB, load {load_average:.1f}".format(**m)
                        for m in result["modules"])
    return ("audit at {workers} workers / {vms} VMs: simulator up in {simulator_start_s}s, settled in {simulator_settle_s}s "
            "(settled: {settled}); {0}").format(modules, **result)


if __name__ == "__main__":
    main()
