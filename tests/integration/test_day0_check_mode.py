"""playbooks/day0.yml --check --diff on a fresh cluster: the whole preview completes and writes nothing.

Later tasks need StorageClasses that earlier tasks would create (vmstate for the HyperConverged
VM-state class); in check mode they plan as if those existed and say so in a warning.
"""

from conftest import run_playbook_file

SIMULATOR_OPTIONS = {"vms": 1}


def run_day0(sim, tmp_path):
    return run_playbook_file(sim, tmp_path, "playbooks/day0.yml",
                             ["-i", "inventory/localhost.yml", "-e", "ocpvirt_target=all", "--check", "--diff"])


def test_day0_check_mode_previews_every_change_on_a_fresh_cluster(sim, tmp_path):
    run = run_day0(sim, tmp_path)
    assert run.ok, run
    assert run.writes == 0 and sim.requests()["dry_run_writes"] > 0
    hco = run.task("ocpvirt.portworx.virtualization : Tune the HyperConverged CR for Portworx")
    assert hco["changed"] is True
    assert hco["diff"]["after"]["vmStateStorageClass"] == "vmstate"
    assert any("StorageClass vmstate" in w and "would exist" in w for w in hco.get("warnings", []))
    classes = run.task("ocpvirt.portworx.portworx_storage : Create or update the Portworx StorageClasses from their presets")
    assert any(item["outcome"] == "created" and item["name"] == "vmstate" for item in classes["classes"])
    names = [sc["metadata"]["name"] for sc in sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").get().to_dict()["items"]]
    assert "vmstate" not in names
