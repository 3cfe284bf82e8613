"""playbooks/day0.yml on a cluster without Autopilot and without the CSI snapshot API.

The simulator hides those API groups from discovery and serving (``hidden_apis``, CLI
``--hide-apis``), as on a cluster without the Autopilot CRD or the CSISnapshot capability.
"""

import pytest

from test_day0 import ansible_playbook, task_result  # noqa: F401  (same runner as the day-0 tests)

SIMULATOR_OPTIONS = {"vms": 2, "durations": {"hco_progressing": 0.05, "registry_rollout": 0.05},
                     "hidden_apis": ["autopilot.libopenstorage.org/v1alpha1", "snapshot.storage.k8s.io/v1"]}


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_day0_converges_without_autopilot_and_snapshot_api_and_says_what_it_skipped(sim, tmp_path):
    run = ansible_playbook(sim, tmp_path, "playbooks/day0.yml")
    assert run.ok, run
    optional = task_result(run, "Create the default Portworx VolumeSnapshotClass and the Autopilot rule that rebalances storage pools")
    assert optional["not_served"] == ["VolumeSnapshotClass px-csi-snapclass", "AutopilotRule pool-rebalance"]
    assert optional["changed"] is False
    notes = task_result(run, "Note which optional objects are skipped")["msg"]
    assert len(notes) == 2 and "CSISnapshot" in notes[0] and "Autopilot is not enabled" in notes[1]
    summary = [r for r in run.results if r["_task"] == "Show what day 0 configured"][0]["msg"]["portworx_storage"]
    assert summary["snapshot_class"].startswith("skipped") and summary["autopilot_rule"].startswith("skipped")
    again = ansible_playbook(sim, tmp_path, "playbooks/day0.yml")
    assert again.ok, again
    assert again.changed == 0 and sim.writes() == 0
