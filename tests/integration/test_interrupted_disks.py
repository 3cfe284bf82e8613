"""VM disk runs killed half-way: the re-run first says what the killed run left, then converges.

Real ``ansible-playbook`` runs against the simulator, each in its own session, ended with SIGKILL
(nothing can catch it, so the killed run reports nothing; only the next run can):

* ``vm_disk_hotplug`` killed after it created the DataVolume and before ``addvolume`` reached
  KubeVirt: the ``addvolume`` call is held 30 s by a fault and then dropped unanswered (never
  applied), the run is killed meanwhile;
* ``volume_expand`` killed after its patch while the resize takes 20 s (``pvc_resize`` duration).
"""

import os
import signal
import subprocess

import pytest
import yaml
from clustersim.testing import eventually

from conftest import ANSIBLE_PLAYBOOK, REPO_ROOT

SIMULATOR_OPTIONS = {"vms": 1, "durations": {"pvc_resize": 20, "pvc_fs_resize": 0.1}}
NS = "vms"
FAST = {"wait_sleep": 0.2, "wait_timeout": 60}
CDI_API = "cdi.kubevirt.io/v1beta1"


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()
    yield
    sim.clear_faults()


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def data_volumes(sim):
    return [d["metadata"]["name"] for d in resource(sim, CDI_API, "DataVolume").get(namespace=NS).to_dict()["items"]]


def vm_volumes(sim, name="vm-000"):
    vm = resource(sim, "kubevirt.io/v1", "VirtualMachine").get(namespace=NS, name=name).to_dict()
    return [v["name"] for v in vm["spec"]["template"]["spec"].get("volumes") or []]


def claim(sim, name):
    return resource(sim, "v1", "PersistentVolumeClaim").get(namespace=NS, name=name).to_dict()


def start(sim, tmp_path, module, args):
    """``ansible-playbook`` with one task, in a session of its own (so the whole run can be killed), output to files."""
    play = {"name": "interrupted", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": module, "ocpvirt.portworx." + module: dict(FAST, **args)}]}
    playbook = tmp_path / "{0}.yml".format(module)
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=sim.kubeconfig, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    out = open(str(tmp_path / "{0}.out".format(module)), "w+")
    return subprocess.Popen([ANSIBLE_PLAYBOOK, str(playbook)], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def kill(process):
    """SIGKILL the run's session: ansible-playbook, and the worker and module (ansible-core gives each worker a
    session of its own, ansible/executor/process/worker.py ``_detach``), found by their session's parent."""
    sessions = {process.pid}
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open("/proc/{0}/stat".format(pid)) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == process.pid and int(fields[3]) == pid:  # a session leader forked by ansible-playbook
                sessions.add(pid)
        except (OSError, IndexError, ValueError):
            continue
    for session in sessions:
        try:
            os.killpg(session, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=60)


def test_a_hotplug_killed_after_the_data_volume_was_created_says_so_and_attaches_it(sim, run_playbook, tmp_path):
    # addvolume is held 30 s and then dropped without being applied: the run is killed in between.
    sim.add_fault(verb="*", resource="virtualmachines", subresource="addvolume", latency_ms=30000, drop=True, count=1)
    run = start(sim, tmp_path, "vm_disk_hotplug", dict(vm="vm-000", namespace=NS, name="scratch", size="2Gi"))
    eventually("the DataVolume created", lambda: "vm-000-scratch" in data_volumes(sim), timeout=60, interval=0.1)
    # The fault's one firing is used up when the held addvolume arrives.
    eventually("addvolume sent and held", lambda: not sim.faults()["rules"], timeout=30, interval=0.1)
    kill(run)
    sim.clear_faults()
    assert "scratch" not in vm_volumes(sim) and "vm-000-scratch" in data_volumes(sim)

    rerun = run_playbook([{"name": "hotplug", "ocpvirt.portworx.vm_disk_hotplug": dict(
        FAST, vm="vm-000", namespace=NS, name="scratch", size="2Gi")}])
    assert rerun.ok and rerun.changed == 1, rerun
    previous = rerun.last["previous_run"]
    assert previous["data_volume"] == "vms/vm-000-scratch" and previous["step"] == "created, not attached", previous
    created = resource(sim, CDI_API, "DataVolume").get(namespace=NS, name="vm-000-scratch").to_dict()["metadata"]["creationTimestamp"]
    assert previous["created"] == created
    assert any("DataVolume vms/vm-000-scratch created at {0} but not attached to VM vm-000".format(created) in w
               for w in rerun.last["warnings"]), rerun.last["warnings"]
    assert rerun.last["data_volume_created"] is False and data_volumes(sim).count("vm-000-scratch") == 1
    assert "scratch" in vm_volumes(sim)
    again = run_playbook([{"name": "hotplug", "ocpvirt.portworx.vm_disk_hotplug": dict(
        FAST, vm="vm-000", namespace=NS, name="scratch", size="2Gi")}])
    assert again.ok and again.changed == 0 and again.writes == 0 and "previous_run" not in again.last, again


def test_an_expansion_killed_while_resizing_is_reported_and_waited_for(sim, run_playbook, tmp_path):
    name = "vm-000-rootdisk"
    run = start(sim, tmp_path, "volume_expand", dict(name=name, namespace=NS, size="40Gi"))
    eventually("the resize requested", lambda: claim(sim, name)["spec"]["resources"]["requests"]["storage"] == "40Gi",
               timeout=60, interval=0.1)
    kill(run)
    assert claim(sim, name)["status"]["capacity"]["storage"] == "30Gi"

    rerun = run_playbook([{"name": "expand", "ocpvirt.portworx.volume_expand": dict(FAST, name=name, namespace=NS, size="40Gi")}])
    assert rerun.ok and rerun.changed == 0, rerun
    previous = rerun.last["previous_run"]
    assert previous["claim"] == "vms/" + name and previous["requested"] == "40Gi" and previous["capacity"] == "30Gi", previous
    assert any("a resize to 40Gi was requested earlier and is not finished" in w and "waiting for it" in w
               for w in rerun.last["warnings"]), rerun.last["warnings"]
    assert rerun.last["claim"]["capacity"] == "40Gi" and claim(sim, name)["status"]["capacity"]["storage"] == "40Gi"
    again = run_playbook([{"name": "expand", "ocpvirt.portworx.volume_expand": dict(FAST, name=name, namespace=NS, size="40Gi")}])
    assert again.ok and "previous_run" not in again.last, again
