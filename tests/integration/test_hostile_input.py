"""Hostile option values for every option of every module: each is refused before any request.

One playbook per module runs all of that module's cases (one task per case, ``ignore_errors``), so
the simulator's request log of that run covers them all: it must show no write, no dry-run write
and, as every rule here is checked before the module builds its client, no request at all.
Each case asserts a failed task with a one-line message naming the option and its rule, and no
crash (Ansible's own ``exception`` key, "(traceback unavailable)", is on every failure and is not one).
"""

import ast
import os

import pytest
import yaml

from conftest import REPO_ROOT

SIMULATOR_OPTIONS = {"vms": 1}
BASE = {"wait_timeout": 5, "wait_sleep": 0.2}
# Modules without the wait options (info modules and the fleet policy).
NO_WAIT = {"readiness_info", "storage_profile_info", "vm_policy", "vm_policy_info", "optional_objects"}

# What a refusal says (see plugins/module_utils/validation.py) and what Ansible's argument checks say.
EMPTY = "is empty"
NOT_DNS = "DNS-1123"
TOO_LONG = "characters long"
NOT_QUANTITY = "is not a Kubernetes quantity"
NOT_POSITIVE = "must be more than 0"
NOT_BYTES = "is not a whole number of bytes"
NOT_BOOL = "is not a valid boolean"
NOT_INT = "unable to convert to int"
NOT_CHOICE = "must be one of"
NOT_DURATION = "is not a Go duration"
NOT_IMAGE = "is not a container image reference"
REQUIRED = "missing required arguments"
EXCLUSIVE = "mutually exclusive"
# Ansible's message for a list element of the wrong type does not name the option (the only such case).
ELEMENT_NOT_DICT = "dictionary requested, could not parse JSON or key=value"
UNNAMED = (REQUIRED, ELEMENT_NOT_DICT)


def name_cases(option, label=False):
    """Empty, malformed, unicode, injection-looking and too long names for ``option``.

    The unit tests of validation.py cover more variants; these are one of each kind, end to end.
    """
    longest = 63 if label else 253
    cases = [
        (option, "", EMPTY),
        (option, "Upper_Case", NOT_DNS),
        (option, "wörker-ü", NOT_DNS),
        (option, "x; rm -rf /", NOT_DNS),
        (option, "a" * (longest + 1), TOO_LONG),
    ]
    if label:
        cases.append((option, "has.a.dot", NOT_DNS))
    return cases


def list_name_cases(option):
    """name_cases for the elements of a list of namespace names."""
    return [(option, [value], expected) for _opt, value, expected in name_cases(option, label=True)]


def quantity_cases(option):
    return [
        (option, "abc", NOT_QUANTITY),
        (option, "10GB", NOT_QUANTITY),
        (option, "-1Gi", NOT_POSITIVE),
        (option, "0", NOT_POSITIVE),
        (option, "100m", NOT_BYTES),
        (option, "20", "a number without a suffix counts bytes"),
        (option, ["10Gi"], NOT_QUANTITY),
    ]


def count_cases(option, minimum=1, maximum=None):
    cases = [(option, minimum - 1, "must be"), (option, -5, "must be"), (option, "abc", NOT_INT)]
    if maximum is not None:
        cases.append((option, maximum + 1, "must be"))
    return cases


def duration_cases(option):
    return [
        (option, "", EMPTY),
        (option, "10", NOT_DURATION),
        (option, "ten minutes", NOT_DURATION),
        (option, "10 m", NOT_DURATION),
        (option, "10M", NOT_DURATION),
        (option, "0s", NOT_POSITIVE),
        (option, "-5m", NOT_POSITIVE),
        (option, "１０m", NOT_DURATION),  # full-width digits
        (option, ["10m"], NOT_DURATION),
    ]


def bool_cases(option):
    return [(option, "maybe", NOT_BOOL)]


def choice_cases(option, value="Bogus"):
    return [(option, value, NOT_CHOICE)]


LABEL_SELECTOR_CASES = [
    ("label_selector", "", EMPTY),
    ("label_selector", "app=db;rm -rf /", "not a label selector"),
    ("label_selector", "env in prod", "not a label selector"),
    ("label_selector", "replicas>2", "not a label selector"),
]

WAIT_CASES = bool_cases("wait") + [("wait_timeout", -1, "must be at least 0"), ("wait_sleep", 0, "must be more than 0")]

MODULES = {
    "hyperconverged": ({}, name_cases("name") + name_cases("namespace", label=True) + name_cases("scratch_space_storage_class")
                       + name_cases("vm_state_storage_class") + [
        ("filesystem_overhead", {"global": "abc"}, "decimal string"),
        ("filesystem_overhead", {"global": "1"}, "decimal string"),
        ("filesystem_overhead", {"global": "-0.1"}, "decimal string"),
        ("filesystem_overhead", {"global": "0.12345"}, "decimal string"),
        ("filesystem_overhead", {"global": ""}, "decimal string"),
        ("filesystem_overhead", {"storage_class": {"Bad_Class": "0.08"}}, NOT_DNS),
        ("filesystem_overhead", {"storage_class": {"": "0.08"}}, EMPTY),
        ("filesystem_overhead", {"storage_class": {"px-cdi-scratch": "abc"}}, "decimal string"),
        ("filesystem_overhead", {"storage_class": {"px-cdi-scratch": ["0.08"]}}, "decimal string"),
        ("filesystem_overhead", {"bogus": "0.08"}, "Unsupported parameters"),
        ("live_migration", {"parallel_migrations_per_cluster": 0}, "must be at least 1"),
        ("live_migration", {"parallel_migrations_per_cluster": -1}, "must be at least 1"),
        ("live_migration", {"parallel_outbound_migrations_per_node": 0}, "must be at least 1"),
        ("live_migration", {"parallel_outbound_migrations_per_node": "two"}, NOT_INT),
        ("live_migration", {"bandwidth_per_migration": "-64Mi"}, NOT_POSITIVE),
        ("live_migration", {"bandwidth_per_migration": "0"}, NOT_POSITIVE),
        ("live_migration", {"bandwidth_per_migration": "fast"}, NOT_QUANTITY),
        ("live_migration", {"bandwidth_per_migration": "64MB"}, NOT_QUANTITY),
        ("live_migration", {"completion_timeout_per_gib": 0}, "must be at least 1"),
        ("live_migration", {"progress_timeout": -150}, "must be at least 1"),
        ("live_migration", {"network": ""}, EMPTY),
        ("live_migration", {"network": "Migration Net"}, NOT_DNS),
        ("eviction_strategy", "LiveMigrateEventually", NOT_CHOICE),
        ("feature_gates", {"deployKubeSecondaryDNS": "false"}, "must be a boolean"),
        ("feature_gates", {"deployKubeSecondaryDNS": "true"}, "must be a boolean"),
        ("feature_gates", {"deployKubeSecondaryDNS": 1}, "must be a boolean"),
        ("feature_gates", {"deployKubeSecondaryDNS": None}, "must be a boolean"),
        ("feature_gates", {"": True}, EMPTY),
        ("feature_gates", ["deployKubeSecondaryDNS"], "dict"),
        ("feature_gates", {"enableCommonBootImageImport": False}, "deprecated and ignored since HCO 1.16"),
    ] + bool_cases("enable_common_boot_image_import") + bool_cases("allow_unsafe_vm_state_class") + WAIT_CASES),
    "image_registry": ({}, choice_cases("state") + name_cases("storage_class") + name_cases("pvc_name") + quantity_cases("pvc_size")
                       + choice_cases("access_mode", "ReadOnlyMany") + count_cases("replicas") + bool_cases("default_route")
                       + bool_cases("allow_single_replica") + WAIT_CASES),
    "node_maintenance": ({"node": "worker-0"}, [("node", None, REQUIRED)] + name_cases("node")[:-1] + [
        ("node", "w" * 242, TOO_LONG),  # room for the NodeMaintenance suffix "-maintenance"
    ] + choice_cases("state") + choice_cases("method", "cordon") + count_cases("max_unavailable") + [
        ("campaign", "", EMPTY),
        ("campaign", "   ", EMPTY),
        ("run_id", "", EMPTY),
        ("run_id", "   ", EMPTY),
    ] + name_cases("lock_namespace", label=True) + count_cases("lock_duration") + count_cases("migration_attempts")
        + bool_cases("release_lock") + bool_cases("allow_vm_shutdown") + bool_cases("allow_drain_blockers")
        + bool_cases("allow_insufficient_room") + bool_cases("allow_control_plane") + bool_cases("adopt") + bool_cases("take_over_lock") + WAIT_CASES),
    "optional_objects": ({"objects": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}}]}, [
        ("objects", None, REQUIRED),
        ("objects", [], EMPTY),
        ("objects", [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name", "namespace": "default"}}], NOT_DNS),
        ("objects", [{"kind": "ConfigMap", "metadata": {"name": "x"}}], "needs apiVersion, kind and metadata.name"),
        ("objects", ["ConfigMap"], ELEMENT_NOT_DICT),
    ]),
    "portworx_storage_class": ({"preset": "vm_block"}, choice_cases("preset", "fast") + [("preset", None, "one of the following is required: preset, classes")] + name_cases("name")
                               + bool_cases("discover") + count_cases("repl", maximum=3) + [
        ("parameters", {"sharedv4_mount_options": ["vers=3.0", "nolock"]}, "must be a string"),
        ("parameters", {"io_profile": {"db": "remote"}}, "must be a string"),
        ("parameters", {"sharedv4": True}, "must be a string"),
        ("parameters", {"priority_io": None}, "must be a string"),
        ("parameters", {"": "x"}, "empty key"),
        ("parameters", "not a map", "dictionary requested"),
        ("annotations", {"example.com/owner": ["a", "b"]}, "must be a string"),
        ("annotations", {"example.com/enabled": False}, "must be a string"),
    ] + choice_cases("volume_binding_mode", "Later") + choice_cases("reclaim_policy", "Recycle")
                               + bool_cases("allow_volume_expansion") + bool_cases("recreate") + WAIT_CASES),
    "storage_profile": ({"name": "px-rwx-block-kubvirt"}, [("name", None, REQUIRED)] + name_cases("name") + [
        ("claim_property_sets", [], EMPTY),
        ("claim_property_sets", [{"access_modes": []}], EMPTY),
        ("claim_property_sets", [{"access_modes": ["ReadWriteSometimes"]}], "must be one or more of"),
        ("claim_property_sets", [{"volume_mode": "Block"}], REQUIRED),
        ("claim_property_sets", [{"access_modes": ["ReadWriteMany"], "volume_mode": "Raw"}], NOT_CHOICE),
        ("claim_property_sets", "ReadWriteMany", ELEMENT_NOT_DICT),
    ] + choice_cases("clone_strategy", "rsync") + choice_cases("data_import_cron_source_format", "qcow2") + WAIT_CASES),
    "readiness_info": ({}, list_name_cases("vm_namespaces") + [
        ("capacity", {"snapshot_change_rate": -0.1}, "must be between 0 and 1"),
        ("capacity", {"snapshot_change_rate": 1.5}, "must be between 0 and 1"),
        ("capacity", {"snapshot_change_rate": "often"}, "float"),
        ("capacity", {"snapshots_retained": -1}, "must be at least 0"),
        ("capacity", {"snapshots_retained": "seven"}, NOT_INT),
        ("capacity", {"boot_image_footprint": "500GB"}, NOT_QUANTITY),
        ("capacity", {"boot_image_footprint": "-1Gi"}, NOT_POSITIVE),
        ("capacity", {"pool_usage_limit_percent": 0}, "must be between 1 and 100"),
        ("capacity", {"pool_usage_limit_percent": 101}, "must be between 1 and 100"),
        ("capacity", {"bogus": 1}, "Unsupported parameters"),
        ("skip_rules", ["NO-SUCH-RULE"], "is not a rule id"),
        ("day0_steps", {"storage": {}}, "must be one of"),
        ("day0_steps", {"hyperconverged": ["name"]}, "is not a map of options"),
        ("skip_rules", [""], "is not a rule id"),
        ("reports", ["pdf"], "must be one or more of"),
        ("fail_on", "always", NOT_CHOICE),
    ]),
    "storage_profile_info": ({}, name_cases("name")),
    "virt_default_storage_class": ({"name": "px-rwx-block-kubvirt"}, [("name", None, REQUIRED)] + name_cases("name")
                                   + bool_cases("cluster_default") + bool_cases("require_rwx") + [
        ("alerts_url", "", EMPTY),
        ("alerts_url", "thanos-querier.example.com", "absolute"),
        ("alerts_url", "file:///etc/passwd", "absolute"),
        ("alerts_url", "https://thanos.example.com/?q=1", "query or fragment"),
        ("alerts_url", "https://thanos.example.com/x y", "white space"),
    ] + WAIT_CASES),
    "vm_disk_hotplug": ({"vm": "vm-000", "namespace": "vms", "name": "data1", "size": "10Gi"},
                        name_cases("vm", label=True) + name_cases("namespace", label=True) + name_cases("name", label=True)
                        + [("vm", None, REQUIRED)] + choice_cases("state") + quantity_cases("size") + [
        ("size", None, "state is present but any of the following are missing"),
        ("claim_name", "data1-claim", EXCLUSIVE),
    ] + name_cases("storage_class") + choice_cases("access_mode", "ReadOnlyMany") + choice_cases("volume_mode", "Raw")
                        + choice_cases("bus", "ide") + [("serial", "", EMPTY)] + bool_cases("shareable")
                        + bool_cases("scsi_reservation") + bool_cases("allow_rwo") + bool_cases("allow_replication_mismatch")
                        + WAIT_CASES),
    "portworx_upgrade": ({"image": "portworx/oci-monitor:3.6.1"}, [("image", None, REQUIRED)] + [
        ("image", "", EMPTY),
        ("image", "portworx/oci-monitor", "no version tag"),
        ("image", "Portworx/OCI-Monitor:3.6.1", NOT_IMAGE),
        ("image", "https://docker.io/portworx/oci-monitor:3.6.1", NOT_IMAGE),
        ("image", "portworx/oci-monitor:3.6.1; rm -rf /", NOT_IMAGE),
        ("image", "pörtworx/oci-monitor:3.6.1", NOT_IMAGE),
        ("image", ["portworx/oci-monitor:3.6.1"], NOT_IMAGE),
    ] + name_cases("name") + name_cases("namespace", label=True) + [
        ("allow_restart_vms", [""], EMPTY),
        ("allow_restart_vms", ["legacy-db"], "is not namespace/name"),
        ("allow_restart_vms", ["vms/legacy/db"], "is not namespace/name"),
        ("allow_restart_vms", ["VMs/legacy-db"], NOT_DNS),
        ("allow_restart_vms", ["vms/légacy-db"], NOT_DNS),
        ("allow_restart_vms", ["vms/" + "a" * 64], TOO_LONG),
        ("allow_restart_vms", {"vms": "legacy-db"}, "unable to convert to list"),
    ] + bool_cases("accept_vm_downtime") + choice_cases("on_failed_eviction", "ignore")
                         + count_cases("migration_retries", minimum=0) + WAIT_CASES),
    "storage_checkup": ({"namespace": "storage-checkup"}, [("namespace", None, REQUIRED)] + name_cases("namespace", label=True)
                        + name_cases("storage_class") + duration_cases("timeout") + duration_cases("vmi_timeout")
                        + count_cases("num_of_vms") + [
        ("image", "", EMPTY),
        ("image", "Registry.RedHat.io/CNV/Checkup:v4.20", NOT_IMAGE),
        ("image", "registry.redhat.io/cnv/checkup:v4.20 --privileged", NOT_IMAGE),
        ("image", "docker://registry.redhat.io/cnv/checkup:v4.20", NOT_IMAGE),
        ("image", ["registry.redhat.io/cnv/checkup:v4.20"], NOT_IMAGE),
    ] + bool_cases("cluster_reader") + bool_cases("rerun") + bool_cases("keep_resources") + bool_cases("keep_result")
                        + bool_cases("fail_on_failure") + WAIT_CASES),
    "vm_policy": ({}, list_name_cases("namespaces") + LABEL_SELECTOR_CASES
                  + [("rules", ["R99"], "must be one or more of")] + bool_cases("include_templates")),
    "vm_policy_info": ({}, list_name_cases("namespaces") + LABEL_SELECTOR_CASES + bool_cases("include_templates")),
    "vm_restore": ({"name": "web-rollback", "namespace": "vms", "snapshot": "web-before-patch"},
                   name_cases("name") + name_cases("namespace", label=True) + name_cases("snapshot") + name_cases("target", label=True)
                   + [("name", None, REQUIRED), ("snapshot", None, REQUIRED), ("namespace", ["vms"], NOT_DNS)]
                   + bool_cases("stop_target") + bool_cases("start") + WAIT_CASES),
    "vm_snapshot": ({"name": "web-before-patch", "namespace": "vms", "vm": "vm-000"},
                    name_cases("name") + name_cases("namespace", label=True) + name_cases("vm", label=True) + [
        ("name", None, REQUIRED),
        ("vm", None, "state is present but all of the following are missing"),
        ("vm", ["vm-000"], NOT_DNS),
    ] + choice_cases("state") + choice_cases("deletion_policy", "Orphan") + bool_cases("require_guest_agent") + [
        ("space_check", {"hourly_change_rate": -0.1}, "must be between 0 and 1"),
        ("space_check", {"hourly_change_rate": 10}, "must be between 0 and 1"),
        ("space_check", {"hourly_change_rate": "often"}, "float"),
        ("space_check", {"snapshots_retained": 0}, "must be at least 1"),
        ("space_check", {"snapshots_retained": -7}, "must be at least 1"),
        ("space_check", {"snapshots_retained": "seven"}, NOT_INT),
        ("space_check", {"enforce": "maybe"}, NOT_BOOL),
        ("space_check", {"bogus": 1}, "Unsupported parameters"),
        ("space_check", "enforce", ELEMENT_NOT_DICT),  # Ansible does not name the option here
    ] + WAIT_CASES),
    "volume_expand": ({"namespace": "vms", "name": "vm-000-rootdisk", "size": "40Gi"},
                      name_cases("name") + name_cases("namespace", label=True) + quantity_cases("size") + [
        ("size", None, REQUIRED),
        ("namespace", None, REQUIRED),
        ("vm", "vm-000", EXCLUSIVE),
    ] + WAIT_CASES),
}

# Cases whose options need a different base (claim_name without size, vm + disk instead of name).
EXTRA = {
    # classes replaces preset (they are mutually exclusive), so these cases carry no preset.
    "portworx_storage_class": [({"classes": value}, "classes", expected) for value, expected in [
        ([], EMPTY),
        ([{"preset": "vm_block", "name": "Bad_Name"}], NOT_DNS),
        ([{"preset": "vm_block", "repl": 5}], "must be between"),
        ([{"preset": "vm_block", "parameters": {"io_profile": ["db"]}}], "must be a string"),
        (["vm_block"], ELEMENT_NOT_DICT),
    ]],
    "vm_disk_hotplug": [({"vm": "vm-000", "namespace": "vms", "name": "data1", "claim_name": value}, "claim_name", expected)
                        for _opt, value, expected in name_cases("claim_name")],
    "volume_expand": [({"namespace": "vms", "vm": "vm-000", "disk": value, "size": "40Gi"}, "disk", expected)
                      for _opt, value, expected in name_cases("disk", label=True)]
                     + [({"namespace": "vms", "vm": value, "disk": "rootdisk", "size": "40Gi"}, "vm", expected)
                        for _opt, value, expected in name_cases("vm", label=True)]
                     + [({"namespace": "vms", "vm": "vm-000", "size": "40Gi"}, "disk", "parameters are required together")],
}


def cases_of(module):
    base, cases = MODULES[module]
    built = []
    for option, value, expected in cases:
        args = dict(base)
        if value is None:
            args.pop(option, None)
        else:
            args[option] = value
        built.append((option, args, expected))
    for args, option, expected in EXTRA.get(module, []):
        built.append((option, dict(args), expected))
    for option, args, expected in built:
        for key, default in BASE.items():
            if module not in NO_WAIT:
                args.setdefault(key, default)
    return built


def documented_options(module):
    path = os.path.join(REPO_ROOT, "plugins", "modules", module + ".py")
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)["options"]
    raise AssertionError("{0} has no DOCUMENTATION".format(module))


def total_cases():
    return sum(len(cases_of(module)) for module in MODULES)


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_every_module_option_is_covered():
    """Every option of every module (bar free text such as node_maintenance reason) has a hostile case."""
    free_text = {("node_maintenance", "reason"), ("readiness_info", "report_title"), ("readiness_info", "cluster_name")}
    auth = {"kubeconfig", "context", "host", "api_key", "username", "password", "validate_certs", "ca_cert", "client_cert",
            "client_key", "proxy", "no_proxy", "proxy_headers", "persist_config", "impersonate_user", "impersonate_groups"}
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO_ROOT, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    assert sorted(MODULES) == modules, "modules without hostile cases: {0}".format(sorted(set(modules) - set(MODULES)))
    for module in MODULES:
        options = set(documented_options(module)) | ({"wait", "wait_timeout", "wait_sleep"} if module not in NO_WAIT else set())
        covered = set(option for option, _args, _expected in cases_of(module))
        missing = options - covered - auth - set(option for mod, option in free_text if mod == module)
        assert not missing, "{0}: no hostile case for {1}".format(module, sorted(missing))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_hostile_values_are_refused_before_any_request(sim, run_playbook, module):
    cases = cases_of(module)
    tasks = [
        {"name": "case {0}: {1}".format(index, option), "ocpvirt.portworx." + module: args, "ignore_errors": True}
        for index, (option, args, _expected) in enumerate(cases)
    ]
    run = run_playbook(tasks)
    requests = sim.requests()
    assert run.writes == 0 and requests["dry_run_writes"] == 0, requests
    assert requests["total"] == 0, requests["by_verb_resource"]
    assert len(run.results) == len(cases), run
    problems = []
    for (option, args, expected), result in zip(cases, run.results):
        msg = str(result.get("msg", ""))
        shown = "{0} {1!r}: {2}".format(module, args.get(option), msg[:300])
        if result.get("failed") is not True:
            problems.append("not refused: " + shown)
        elif "\n" in msg.strip() or "Traceback" in msg or "MODULE FAILURE" in msg or "module_stderr" in result:
            problems.append("not one line / traceback: " + shown)
        elif expected not in msg or option.split(".")[0] not in msg and expected not in UNNAMED:
            problems.append("expected {0!r} and the option name: {1}".format(expected, shown))
    assert not problems, "\n".join(problems)
