"""Each playbook runs as a ServiceAccount bound to exactly its persona's shipped roles
(roles/rbac/files/, bound by playbooks/rbac.yml), against the simulator's RBAC.

A persona's run must never meet a 403 (a missing permission), and every permission its roles grant
must be used by one of its runs or by a path declared in tools/rbac_paths_not_run.yml (a surplus
permission): tools/rbac_from_requests.py compares. The auditor running day 0 is refused with one
line naming the 403, before any write.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
sys.path.insert(0, os.path.join(REPO_ROOT, "tools"))

import rbac_from_requests as rbac  # noqa: E402  (needs the path above)

SIMULATOR_OPTIONS = {"workers": 3, "vms": 4, "durations": {
    "hco_progressing": 0.05, "registry_rollout": 0.05, "portworx_update_step": 0.1, "portworx_update_restart": 0.2,
    "migration_step": 0.03, "migration_transfer_per_gib": 0.03}}
AUTOMATION_NAMESPACE = "ocpvirt-automation"
VM_NAMESPACES = ("vms",)
PERSONAS = ("installer", "operator", "auditor")
# Seeded placement: vm-001 (migratable) runs alone on worker-1.
MAINTENANCE = {"node_maintenance_nodes": ["worker-1"], "node_maintenance_wait_timeout": 120}
DISKS = {
    "vm_disks_expand": [{"vm": "vm-000", "namespace": "vms", "disk": "rootdisk", "size": "40Gi"}],
    "vm_disks_hotplug": [{"vm": "vm-001", "namespace": "vms", "name": "data1", "size": "10Gi"},
                         {"vm": "vm-001", "namespace": "vms", "name": "data1", "state": "absent"}],
}
# vm-002 has an RWO disk: it cannot live-migrate, and may restart while Portworx restarts under it.
UPGRADE = {"portworx_upgrade_image": "portworx/oci-monitor:3.6.1", "portworx_upgrade_allow_restart_vms": ["vms/vm-002"],
           "portworx_upgrade_wait_timeout": 120, "portworx_upgrade_wait_sleep": 0.2}
MIGRATION = {"day0_enable_migration_toolkit": True, "migration_toolkit_datastores": ["datastore-1"]}


class Run(object):
    def __init__(self, completed, log):
        self.rc, self.stdout, self.stderr = completed.returncode, completed.stdout, completed.stderr
        self.entries = log["entries"]
        self.writes = log["writes"]
        self.changing_writes = log["changing_writes"]
        report = json.loads(completed.stdout)
        self.failures = [dict(result, _task=task["task"]["name"])
                         for play in report.get("plays", []) for task in play.get("tasks", [])
                         for result in task["hosts"].values() if result.get("failed")]

    @property
    def forbidden(self):
        return [e for e in self.entries if e["code"] == 403]

    def __repr__(self):
        return "Run(rc={0}, failures={1!r}, forbidden={2!r}, stderr={3!r})".format(
            self.rc, [f.get("msg") for f in self.failures], self.forbidden[:5], self.stderr[-1500:])


def service_account_kubeconfig(sim, name, path):
    """A kubeconfig with the simulator's server and CA and a TokenRequest token of the account."""
    answer = sim.request("POST", "/api/v1/namespaces/{0}/serviceaccounts/{1}/token".format(AUTOMATION_NAMESPACE, name),
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    with open(sim.kubeconfig) as handle:
        config = yaml.safe_load(handle)
    config["users"] = [{"name": name, "user": {"token": answer["status"]["token"]}}]
    for context in config["contexts"]:
        context["context"]["user"] = name
    path.write_text(yaml.safe_dump(config))
    return str(path)


def admin_playbook(sim, directory, playbook, extra_vars):
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=sim.kubeconfig, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(directory / "ansible-tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    command = [ANSIBLE_PLAYBOOK, "playbooks/" + playbook, "-e", "ocpvirt_target=localhost", "-e", json.dumps(extra_vars)]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def cluster(sim, tmp_path_factory):
    """playbooks/rbac.yml run as admin: the shipped ClusterRoles, one ServiceAccount per persona
    bound to exactly its persona's roles (the vm-disks role in the VM namespace)."""
    sim.settle()
    directory = tmp_path_factory.mktemp("least-privilege")
    setup = {"rbac_namespace": AUTOMATION_NAMESPACE, "rbac_vm_namespaces": list(VM_NAMESPACES),
             "rbac_service_accounts": dict((p, p) for p in PERSONAS)}
    completed = admin_playbook(sim, directory, "rbac.yml", setup)
    assert completed.returncode == 0, completed.stdout[-3000:]
    again = admin_playbook(sim, directory, "rbac.yml", setup)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
    kubeconfigs = dict((persona, service_account_kubeconfig(sim, persona, directory / "{0}.kubeconfig".format(persona)))
                       for persona in PERSONAS)
    return {"kubeconfigs": kubeconfigs, "tmp": directory, "runs": {}}


def run_as(sim, cluster, persona, playbook, extra_vars=None):
    command = [ANSIBLE_PLAYBOOK, "playbooks/" + playbook, "-e", "ocpvirt_target=localhost"]
    if extra_vars:
        command.extend(["-e", json.dumps(extra_vars)])
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=cluster["kubeconfigs"][persona], ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(cluster["tmp"] / "ansible-tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    sim.reset_requests()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    return Run(completed, sim.request("GET", "/_sim/requests?entries=1&limit=10000"))


def persona_runs(sim, cluster, persona):
    """Every persona's runs, once per module, in one order: the day-2 runs on the seeded cluster,
    then day 0, then the audit of the cluster day 0 configured."""
    runs = cluster["runs"]
    if not runs:
        runs["operator"] = [
            # drain first: vm-001 runs alone on worker-1 and live-migrates (VirtualMachineInstanceMigration)
            run_as(sim, cluster, "operator", "day2_node_maintenance.yml",
                   dict(MAINTENANCE, node_maintenance_method="drain", node_maintenance_campaign="drain")),
            run_as(sim, cluster, "operator", "day2_node_maintenance.yml",
                   dict(MAINTENANCE, node_maintenance_method="node_maintenance", node_maintenance_campaign="nmo")),
            run_as(sim, cluster, "operator", "day2_vm_disks.yml", DISKS),
            run_as(sim, cluster, "operator", "day2_portworx_upgrade.yml", UPGRADE),
        ]
        runs["installer"] = [run_as(sim, cluster, "installer", "day0.yml", MIGRATION)]
        runs["auditor"] = [run_as(sim, cluster, "auditor", "audit.yml", {"audit_output_dir": str(cluster["tmp"] / "audit")})]
    return runs[persona]


def test_the_installer_runs_day_0_without_a_refusal(sim, cluster):
    for run in persona_runs(sim, cluster, "installer"):
        assert run.rc == 0 and not run.failures and not run.forbidden, run
        assert run.changing_writes > 0


def test_the_operator_runs_node_maintenance_vm_disks_and_the_portworx_upgrade_without_a_refusal(sim, cluster):
    for run in persona_runs(sim, cluster, "operator"):
        assert run.rc == 0 and not run.failures and not run.forbidden, run
        assert run.changing_writes > 0


def test_the_auditor_runs_the_audit_and_writes_nothing(sim, cluster):
    (run,) = persona_runs(sim, cluster, "auditor")
    assert run.rc == 0 and not run.failures and not run.forbidden, run
    assert run.writes == 0 and not [e for e in run.entries if e["verb"] in ("create", "update", "patch", "delete")]


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_is_granted_exactly_what_its_playbooks_use(sim, cluster, persona):
    used = set()
    for run in persona_runs(sim, cluster, persona):
        used |= rbac.permissions_used(run.entries)
    result = rbac.compare(rbac.granted(rbac.load_roles(), persona, VM_NAMESPACES), used | rbac.declared_paths(persona))
    assert not result.missing and not result.surplus, "missing: {0}; surplus: {1}".format(
        [str(p) for p in result.missing], [str(p) for p in result.surplus])


def test_the_auditor_running_day_0_is_refused_in_one_line_before_any_write(sim, cluster):
    persona_runs(sim, cluster, "installer")  # the cluster as day 0 left it
    run = run_as(sim, cluster, "auditor", "day0.yml")
    assert run.rc != 0 and run.writes == 0 and run.changing_writes == 0, run
    (failure,) = run.failures
    # the StorageClass task loops over the presets: each item is refused by itself
    messages = [item["msg"] for item in failure.get("results", [failure]) if item.get("failed")]
    assert messages, failure
    for message in messages:
        assert "\n" not in message and "HTTP 403 Forbidden" in message, message
        assert 'User "system:serviceaccount:{0}:auditor"'.format(AUTOMATION_NAMESPACE) in message, message
    assert run.forbidden and all(e["verb"] in ("get", "list") for e in run.forbidden), run.forbidden
