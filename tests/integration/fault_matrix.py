"""The fault matrix (``test_fault_matrix_day0.py``, ``test_fault_matrix_day2.py``): every module that writes,
against injected API faults, through ansible-playbook. The matrix is split over two test files so that
``pytest-xdist --dist loadfile`` runs its halves on both workers.

For each module the simulator's HTTP fault rules hit named requests of one representative task
(its first read, its first write, a later write of the same step when it has one, another read,
and a read-modify-write PUT where the module does one):

* two "transient" runs: 500 / 429 with Retry-After / 429 without it on first read / first write /
  later write (each position a different code per run, rotating over the modules, see
  ``transient_rules``), plus a connection reset (run 0), a 3 s latency and a 409 Conflict on the
  read-modify-write (run 1). Each must converge: the cluster state is checked through the API,
  every fault rule must have fired, and a second run without faults reports ``changed=0`` and
  sends no write at all.
* one "exhausted" run: the last write of the step answers 500 on every retry. It must fail with a
  one-line message (no traceback) that names any half-done state the step leaves, and a re-run
  without the fault must converge.

The rules match a request by verb, resource and name: a create carries no name in its URL, so a
"later write" is a write another rule cannot also match (another resource, or a patch of a name).
One simulator serves every module (its state is reloaded from a per-module snapshot before each
case); ``vm_policy`` needs the ``misconfigured`` profile and has its own.
"""

import pytest
import yaml
from clustersim.testing import Simulator, eventually
from conftest import run_playbook_file

SIMULATOR_OPTIONS = {"vms": 4, "time_scale": 0.25, "durations": {
    "hco_progressing": 0.1, "registry_rollout": 0.05, "pvc_resize": 0.1, "pvc_fs_resize": 0.1,
    "portworx_update_step": 0.1, "portworx_update_restart": 0.2, "migration_step": 0.03,
    "migration_transfer_per_gib": 0.03, "cdi_alert_for": 0.0}}
FAST = {"wait_sleep": 0.2, "wait_timeout": 60}
#: Every attempt of the client's retry policy (RetryPolicy.attempts) and then some.
EXHAUSTING = 8
CODES = ("500", "429 with Retry-After", "429 without Retry-After")
POSITIONS = ("first_read", "first_write", "later")


def code_rule(code):
    return {"500": {"code": 500}, "429 with Retry-After": {"code": 429, "retry_after": 1},
            "429 without Retry-After": {"code": 429, "retry_after": None}}[code]


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def read(sim, api_version, kind, name, namespace=None):
    items = resource(sim, api_version, kind).get(namespace=namespace).to_dict()["items"]
    found = [i for i in items if i["metadata"]["name"] == name]
    return found[0] if found else None


def annotations(obj):
    return (obj or {}).get("metadata", {}).get("annotations") or {}


# --- the modules: a task, the requests the faults hit, what "converged" means ----------------------
class Module(object):
    """One row of the matrix.

    ``first_read``/``first_write``/``later``/``rmw``/``slow`` are fault rules without a code
    (``later`` is a later write of the step, None for a one-write step; ``slow`` a read no other
    rule matches, which gets the reset and the latency). ``half_done`` are the words the
    exhausted run's message must contain (the leftover state), or ``()`` when the failed write is
    the step's only one and nothing is left half-done.
    """

    def __init__(self, name, args, first_read, first_write, later, slow, converged, prepare=None, ready=None, rmw=None,
                 half_done=(), profile="default", wait=True):
        self.name, self.args, self.prepare, self.ready, self.converged = name, args, prepare, ready, converged
        self.rules = {"first_read": first_read, "first_write": first_write, "later": later, "slow": slow, "rmw": rmw}
        self.half_done, self.profile, self.wait = half_done, profile, wait

    def task(self):
        args = dict(FAST) if self.wait else {}
        args.update(self.args)
        return {"name": self.name, "ocpvirt.portworx." + self.name: args}

    def __repr__(self):
        return self.name


def snapshot_class(sim):
    resource(sim, "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass").create(body={
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
        "metadata": {"name": "px-csi-snapclass", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
        "driver": "pxd.portworx.com", "deletionPolicy": "Delete", "parameters": {"csi.openstorage.org/snapshot-type": "local"}})


def vmi_running(sim, name):
    eventually("{0} runs".format(name), lambda: ((read(sim, "kubevirt.io/v1", "VirtualMachineInstance", name, "vms") or {})
                                                 .get("status", {}).get("phase") == "Running"), timeout=30)


def prepare_classes(sim, run):
    # fm-b exists without the annotation the task adds, so the task's second write is a patch of it
    assert run([{"name": "fm-b", "ocpvirt.portworx.portworx_storage_class": dict(FAST, preset="cdi_scratch", name="fm-b")}]).ok


def classes_converged(sim):
    assert read(sim, "storage.k8s.io/v1", "StorageClass", "fm-a") is not None
    assert annotations(read(sim, "storage.k8s.io/v1", "StorageClass", "fm-b")).get("fault-matrix") == "yes"


def profile_converged(sim):
    spec = read(sim, "cdi.kubevirt.io/v1beta1", "StorageProfile", "px-rwx-block-kubvirt")["spec"]
    assert spec.get("cloneStrategy") == "csi-clone"


VIRT_DEFAULT = "storageclass.kubevirt.io/is-default-virt-class"


def virt_default_converged(sim):
    items = resource(sim, "storage.k8s.io/v1", "StorageClass").get().to_dict()["items"]
    assert sorted(c["metadata"]["name"] for c in items if annotations(c).get(VIRT_DEFAULT) == "true") == ["px-csi-replicated"]


def hco_converged(sim):
    spec = read(sim, "hco.kubevirt.io/v1beta1", "HyperConverged", "kubevirt-hyperconverged", "openshift-cnv")["spec"]
    assert spec["scratchSpaceStorageClass"] == "px-csi-db" and spec["evictionStrategy"] == "LiveMigrate"


def registry_converged(sim):
    spec = read(sim, "imageregistry.operator.openshift.io/v1", "Config", "cluster")["spec"]
    assert spec["storage"] == {"pvc": {"claim": "registry-storage-pvc"}} and spec["managementState"] == "Managed"
    assert read(sim, "v1", "PersistentVolumeClaim", "registry-storage-pvc", "openshift-image-registry")["status"]["phase"] == "Bound"


def optional_converged(sim):
    assert read(sim, "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass", "fm-snap") is not None
    assert read(sim, "v1", "ConfigMap", "fm-cm", "default")["data"] == {"fault": "matrix"}


def expand_converged(sim):
    claim = read(sim, "v1", "PersistentVolumeClaim", "vm-000-rootdisk", "vms")
    assert claim["spec"]["resources"]["requests"]["storage"] == "40Gi" and claim["status"]["capacity"]["storage"] == "40Gi"


def snapshot_converged(sim):
    snapshot = read(sim, "snapshot.kubevirt.io/v1beta1", "VirtualMachineSnapshot", "fm-snap", "vms")
    assert snapshot["status"]["readyToUse"] is True


def first_vm_running(sim):
    vmi_running(sim, "vm-000")


def prepare_snapshot(sim, run):
    snapshot_class(sim)
    first_vm_running(sim)


def prepare_restore(sim, run):
    prepare_snapshot(sim, run)
    assert run([{"name": "snapshot", "ocpvirt.portworx.vm_snapshot": dict(FAST, name="fm-snap", vm="vm-000", namespace="vms")}]).ok


def restore_converged(sim):
    restore = read(sim, "snapshot.kubevirt.io/v1beta1", "VirtualMachineRestore", "fm-restore", "vms")
    assert restore["status"]["complete"] is True
    vmi_running(sim, "vm-000-copy")


def all_vms_running(sim):
    for vm in ("vm-000", "vm-001", "vm-002", "vm-003"):
        vmi_running(sim, vm)


def upgrade_converged(sim):
    nodes = resource(sim, "core.libopenstorage.org/v1", "StorageNode").get(namespace="portworx").to_dict()["items"]
    assert sorted(set(n["spec"]["version"] for n in nodes)) == ["3.6.1"]


def prepare_checkup(sim, run):
    # what day 0's storage profile step gives the Stork class, whose provisioner CDI does not know
    resource(sim, "cdi.kubevirt.io/v1beta1", "StorageProfile").patch(
        name="stork-snapshot-sc", content_type="application/merge-patch+json",
        body={"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]}})
    # an earlier checkup's ConfigMap with other options: the module resets it with a read-modify-write
    resource(sim, "v1", "ConfigMap").create(namespace="default", body={
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "storage-checkup-config", "namespace": "default"},
        "data": {"spec.timeout": "5m"}})
    sim.settle()


CHECKUP_LEFTOVERS = (("v1", "ServiceAccount", "storage-checkup-sa"), ("rbac.authorization.k8s.io/v1", "Role", "storage-checkup-role"),
                     ("rbac.authorization.k8s.io/v1", "RoleBinding", "storage-checkup-role"), ("batch/v1", "Job", "storage-checkup"))


def checkup_converged(sim):
    config = read(sim, "v1", "ConfigMap", "storage-checkup-config", "default")
    assert config["data"]["status.succeeded"] == "true"
    for api_version, kind, name in CHECKUP_LEFTOVERS:
        assert read(sim, api_version, kind, name, "default") is None, (kind, name)


def policy_converged(sim):
    vm = read(sim, "kubevirt.io/v1", "VirtualMachine", "vm-003", "vms")
    assert vm["spec"]["template"]["spec"]["evictionStrategy"] == "LiveMigrateIfPossible"
    immediate = read(sim, "kubevirt.io/v1", "VirtualMachine", "legacy-immediate", "vms-legacy")
    assert "cdi.kubevirt.io/storage.bind.immediate.requested" not in annotations(immediate["spec"]["dataVolumeTemplates"][0])


def hotplug_converged(sim):
    vmi = read(sim, "kubevirt.io/v1", "VirtualMachineInstance", "vm-000", "vms")
    assert any(v["name"] == "fmdata" and v.get("phase") == "Ready" for v in vmi["status"].get("volumeStatus", []))


SC = "storage.k8s.io/storageclasses"
MODULES = [
    Module("portworx_storage_class",
           {"classes": [{"preset": "vm_block", "name": "fm-a"},
                        {"preset": "cdi_scratch", "name": "fm-b", "annotations": {"fault-matrix": "yes"}}]},
           first_read=dict(verb="get", resource=SC, name="fm-a"), first_write=dict(verb="create", resource=SC),
           later=dict(verb="patch", resource=SC, name="fm-b"), slow=dict(verb="get", resource="storageprofiles", name="fm-a"),
           prepare=prepare_classes, converged=classes_converged, half_done=("StorageClass fm-a",)),
    Module("storage_profile", {"name": "px-rwx-block-kubvirt", "clone_strategy": "csi-clone"},
           first_read=dict(verb="get", resource=SC, name="px-rwx-block-kubvirt"),
           first_write=dict(verb="patch", resource="storageprofiles"),
           later=None, slow=dict(verb="get", resource="storageprofiles"), converged=profile_converged),
    Module("virt_default_storage_class", {"name": "px-csi-replicated"},
           first_read=dict(verb="list", resource=SC), first_write=dict(verb="patch", resource=SC, name="px-rwx-block-kubvirt"),
           later=dict(verb="patch", resource=SC, name="px-csi-replicated"), slow=dict(verb="list", resource="storageprofiles"),
           converged=virt_default_converged, half_done=("already un-defaulted", "px-rwx-block-kubvirt", "the virt default is now none")),
    Module("hyperconverged", {"scratch_space_storage_class": "px-csi-db", "eviction_strategy": "LiveMigrate"},
           first_read=dict(verb="get", resource="hyperconvergeds"), first_write=dict(verb="patch", resource="hyperconvergeds"),
           later=None, slow=dict(verb="list", resource=SC), converged=hco_converged),
    Module("image_registry", {},
           first_read=dict(verb="get", resource="configs", name="cluster"), first_write=dict(verb="create", resource="persistentvolumeclaims"),
           later=dict(verb="patch", resource="configs", name="cluster"), slow=dict(verb="get", resource="clusteroperators"),
           converged=registry_converged, half_done=("PersistentVolumeClaim openshift-image-registry/registry-storage-pvc",)),
    Module("optional_objects",
           {"objects": [{"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "fm-snap"},
                         "driver": "pxd.portworx.com", "deletionPolicy": "Delete"},
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fm-cm", "namespace": "default"},
                         "data": {"fault": "matrix"}}]},
           first_read=dict(verb="get", resource="volumesnapshotclasses", name="fm-snap"),
           first_write=dict(verb="create", resource="volumesnapshotclasses"), later=dict(verb="create", resource="configmaps"),
           slow=dict(verb="get", resource="configmaps", name="fm-cm"), converged=optional_converged, wait=False,
           half_done=("VolumeSnapshotClass fm-snap",)),
    Module("volume_expand", {"name": "vm-000-rootdisk", "namespace": "vms", "size": "40Gi"},
           first_read=dict(verb="get", resource="persistentvolumeclaims", name="vm-000-rootdisk"),
           first_write=dict(verb="patch", resource="persistentvolumeclaims"), later=None,
           slow=dict(verb="get", resource=SC), converged=expand_converged),
    Module("vm_snapshot", {"name": "fm-snap", "vm": "vm-000", "namespace": "vms"},
           first_read=dict(verb="get", resource="virtualmachinesnapshots", name="fm-snap"),
           first_write=dict(verb="create", resource="virtualmachinesnapshots"), later=None,
           slow=dict(verb="get", resource="virtualmachines", name="vm-000"), prepare=prepare_snapshot, ready=first_vm_running, converged=snapshot_converged),
    Module("vm_restore", {"name": "fm-restore", "namespace": "vms", "snapshot": "fm-snap", "target": "vm-000-copy", "start": True},
           first_read=dict(verb="get", resource="virtualmachinesnapshots", name="fm-snap"),
           first_write=dict(verb="create", resource="virtualmachinerestores"),
           later=dict(verb="update", resource="virtualmachines", subresource="start"),
           slow=dict(verb="get", resource="virtualmachinerestores"), prepare=prepare_restore, ready=first_vm_running, converged=restore_converged,
           half_done=("VirtualMachineRestore vms/fm-restore",)),
    Module("portworx_upgrade", {"image": "portworx/oci-monitor:3.6.1", "allow_restart_vms": ["vms/vm-002"]},
           first_read=dict(verb="list", resource="storageclusters"), first_write=dict(verb="patch", resource="storageclusters"),
           later=None, slow=dict(verb="list", resource="persistentvolumeclaims"), ready=all_vms_running, converged=upgrade_converged),
    Module("storage_checkup", {"namespace": "default"},
           first_read=dict(verb="get", resource="namespaces", name="default"), first_write=dict(verb="create", resource="serviceaccounts"),
           later=dict(verb="create", resource="roles"), slow=dict(verb="get", resource="jobs"),
           rmw=dict(verb="update", resource="configmaps", name="storage-checkup-config"), prepare=prepare_checkup,
           converged=checkup_converged, half_done=("ServiceAccount default/storage-checkup-sa",)),
    Module("vm_policy", {},
           first_read=dict(verb="list", resource=SC), first_write=dict(verb="update", resource="virtualmachines", name="vm-003"),
           later=dict(verb="update", resource="templates", name="legacy-rhel9"), slow=dict(verb="list", resource="templates"),
           rmw=dict(verb="update", resource="virtualmachines", name="legacy-immediate"), converged=policy_converged,
           profile="misconfigured", wait=False, half_done=("VirtualMachine vms/vm-003",)),
    Module("vm_disk_hotplug", {"vm": "vm-000", "namespace": "vms", "name": "fmdata", "size": "1Gi"},
           first_read=dict(verb="get", resource="virtualmachines", name="vm-000"), first_write=dict(verb="create", resource="datavolumes"),
           later=dict(verb="update", resource="virtualmachines", subresource="addvolume"),
           slow=dict(verb="get", resource="datavolumes"), ready=first_vm_running, converged=hotplug_converged,
           half_done=("DataVolume vms/vm-000-fmdata created but not attached",)),
]


def transient_rules(module, run_index):
    """The fault rules of transient run ``run_index`` (0 or 1) of ``module``.

    Each position gets a different code in each run, and the codes rotate with the module's place in
    the matrix, so every (code, position) pair is hit across the matrix and two of the three codes
    at every position of every module. Run 0 adds a connection reset on the ``slow`` read, run 1 a
    3 s latency there and a 409 Conflict on the read-modify-write.
    """
    rotation = MODULES.index(module) + run_index
    rules = []
    positions = [p for p in POSITIONS if module.rules[p] is not None]
    for offset, position in enumerate(positions):
        rule = dict(module.rules[position], count=1)
        rule.update(code_rule(CODES[(offset + rotation) % len(CODES)]))
        rules.append(rule)
    if run_index == 0:
        rules.append(dict(module.rules["slow"], drop=True, count=1))
    else:
        rules.append(dict(module.rules["slow"], latency_ms=3000, count=1))
        if module.rules["rmw"]:
            rules.append(dict(module.rules["rmw"], code=409, count=1))
    return rules


# --- fixtures ------------------------------------------------------------------------------------
def simulator_pool():
    """A generator for a module-scoped fixture: ``get(profile)`` starts one simulator per profile."""
    started = {}

    def get(profile):
        if profile not in started:
            started[profile] = Simulator(profile=profile, **SIMULATOR_OPTIONS).start()
        return started[profile]

    yield get
    for simulator in started.values():
        simulator.stop()


class Runner(object):
    def __init__(self, sim, tmp_path):
        self.sim, self.tmp_path, self.runs = sim, tmp_path, 0

    def __call__(self, tasks):
        self.runs += 1
        playbook = self.tmp_path / "playbook-{0}.yml".format(self.runs)
        play = {"name": "fault matrix", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        return run_playbook_file(self.sim, self.tmp_path, str(playbook))


_SNAPSHOTS = {}


def module_case(module, simulators, tmp_path):
    """A generator for the ``case`` fixture: ``(module, sim, run, fresh)``; ``fresh()`` loads the module's start state."""
    sim = simulators(module.profile)
    run = Runner(sim, tmp_path)

    def fresh():
        sim.clear_faults()
        if module.name not in _SNAPSHOTS:
            sim.reset()
            sim.settle()
            if module.prepare:
                module.prepare(sim, run)
            sim.settle()
            _SNAPSHOTS[module.name] = sim.dump()
        else:
            sim.load(_SNAPSHOTS[module.name])
            sim.settle()
        if module.ready:
            module.ready(sim)

    yield module, sim, run, fresh
    sim.clear_faults()


# --- assertions ----------------------------------------------------------------------------------
def assert_one_line(run, anywhere=True):
    """The failure that stopped the run is one line; ``anywhere``: no traceback anywhere in the output either
    (a role's rescued kubernetes.core task still shows kubernetes.core's own message above the one line)."""
    msg = run.last.get("msg") or ""
    assert msg and "\n" not in msg.strip(), run
    for text in ("Traceback", "Original traceback", "MODULE FAILURE"):
        assert text not in msg and not (anywhere and text in run.stdout), (text, run)
    # ansible-core puts a placeholder under "exception" in every failed result; a real one is a traceback
    assert run.last.get("exception") in (None, "(traceback unavailable)") and "module_stderr" not in run.last, run


def assert_all_fired(sim):
    left = [r for r in sim.faults()["rules"]]
    assert left == [], "fault rules that never fired (the module did not send the request they name): {0}".format(left)


def assert_quiet_rerun(module, run):
    again = run([module.task()])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0, again

def matrix_fixtures(modules):
    """The ``simulators`` (one per profile, for the test file) and ``case`` (one per module of ``modules``) fixtures."""

    @pytest.fixture(scope="module")
    def simulators():
        yield from simulator_pool()

    @pytest.fixture(params=modules, ids=repr)
    def case(request, simulators, tmp_path):  # pylint: disable=redefined-outer-name
        yield from module_case(request.param, simulators, tmp_path)

    return simulators, case


# The two tests of every matrix row; each test file imports them with its own fixtures, and pytest
# collects them there (this file's name does not match test_*.py, so they run once per test file).
@pytest.mark.parametrize("run_index", [0, 1], ids=["codes+reset", "codes+latency+409"])
def test_transient_faults_converge(case, run_index):
    module, sim, run, fresh = case
    fresh()
    rules = transient_rules(module, run_index)
    for rule in rules:
        sim.add_fault(**rule)
    faulted = run([module.task()])
    assert faulted.ok, (rules, faulted)
    assert_all_fired(sim)
    module.converged(sim)
    assert_quiet_rerun(module, run)


def test_exhausted_last_write_fails_in_one_line_naming_what_is_left_and_the_rerun_converges(case):
    module, sim, run, fresh = case
    fresh()
    sim.add_fault(code=500, count=EXHAUSTING, **(module.rules["later"] or module.rules["first_write"]))
    failed = run([module.task()])
    sim.clear_faults()
    assert not failed.ok, failed
    assert_one_line(failed)
    assert "HTTP 500" in failed.last["msg"], failed.last["msg"]
    for words in module.half_done:
        assert words in failed.last["msg"], (words, failed.last["msg"])
    assert failed.last.get("half_done", False) is bool(module.half_done), failed.last
    if not module.half_done:  # the failed write was the step's only one: nothing changed
        assert sim.changing_writes() == 0, sim.requests(entries=True)
    rerun = run([module.task()])
    assert rerun.ok, rerun
    module.converged(sim)


DAY0 = [m for m in MODULES if m.name in ("portworx_storage_class", "storage_profile", "virt_default_storage_class",
                                        "hyperconverged", "image_registry", "optional_objects")]
DAY2 = [m for m in MODULES if m not in DAY0]
