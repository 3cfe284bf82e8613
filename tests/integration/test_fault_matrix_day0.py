"""The fault matrix (see ``fault_matrix.py``) for the day-0 modules and the migration_toolkit role's own tasks."""

import pytest
from fault_matrix import (  # noqa: F401 - the matrix's tests, collected here with this file's fixtures
    DAY0,
    SC,
    Runner,
    assert_all_fired,
    assert_one_line,
    matrix_fixtures,
    read,
    resource,
    test_exhausted_last_write_fails_in_one_line_naming_what_is_left_and_the_rerun_converges,
    test_transient_faults_converge,
)

simulators, case = matrix_fixtures(DAY0)


# --- the day-0 roles' own kubernetes.core tasks (the other day-0 roles only call the modules above) --
MTV_CLASS = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "mtv-storage"},
             "provisioner": "pxd.portworx.com", "volumeBindingMode": "Immediate", "parameters": {"repl": "3"}}
MTV_ROLE = [{"name": "mtv", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.migration_toolkit"},
             "vars": {"migration_toolkit_datastores": ["datastore-1"]}}]
MTV_READ = dict(verb="get", resource=SC, name="mtv-storage")
MTV_MAP = "forklift.konveyor.io/storagemaps"
#: the role's tasks try 6 times (retries: 5)
MTV_ATTEMPTS = 6


@pytest.fixture
def mtv(simulators, tmp_path):
    sim = simulators("default")
    sim.reset()
    sim.settle()
    resource(sim, "storage.k8s.io/v1", "StorageClass").create(body=MTV_CLASS)
    yield sim, Runner(sim, tmp_path)
    sim.clear_faults()


def storage_map(sim):
    return read(sim, "forklift.konveyor.io/v1beta1", "StorageMap", "portworx-storage-map", "openshift-mtv")


def test_migration_toolkit_tasks_retry_transient_faults_and_converge(mtv):
    sim, run = mtv
    for rule in (dict(MTV_READ, code=500, count=1), dict(verb="get", resource=MTV_MAP, code=429, retry_after=1, count=1),
                 dict(verb="create", resource=MTV_MAP, code=429, retry_after=None, count=1),
                 dict(verb="get", resource=MTV_MAP, latency_ms=3000, count=1)):
        sim.add_fault(**rule)
    faulted = run(MTV_ROLE)
    assert faulted.ok, faulted
    assert_all_fired(sim)
    assert storage_map(sim)["spec"]["map"][0]["destination"]["storageClass"] == "mtv-storage"
    again = run(MTV_ROLE)
    assert again.ok and again.changed == 0, again


def test_migration_toolkit_stops_in_one_line_after_its_retries_and_the_rerun_converges(mtv):
    sim, run = mtv
    sim.add_fault(code=500, count=MTV_ATTEMPTS, **MTV_READ)
    failed = run(MTV_ROLE)
    sim.clear_faults()
    assert not failed.ok, failed
    assert_one_line(failed, anywhere=False)
    assert "failed with HTTP 500 InternalError: simulated fault" in failed.last["msg"], failed.last["msg"]
    assert storage_map(sim) is None  # nothing half-done: the map is the role's only write
    rerun = run(MTV_ROLE)
    assert rerun.ok, rerun
    assert storage_map(sim) is not None
