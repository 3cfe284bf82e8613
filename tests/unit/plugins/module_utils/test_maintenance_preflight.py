from ansible_collections.ocpvirt.portworx.plugins.module_utils import maintenance_preflight as mp


def node(name, memory="16Gi", cordoned=False, ready=True, labels=None):
    return {"metadata": {"name": name, "labels": labels if labels is not None else {mp.WORKER_ROLE_LABEL: ""}},
            "spec": {"unschedulable": True} if cordoned else {},
            "status": {"allocatable": {"memory": memory}, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def vmi(name, node_name="w1", strategy="LiveMigrateIfPossible", migratable=True, reason=None, memory="2Gi"):
    cond = {"type": "LiveMigratable", "status": "True" if migratable else "False"}
    if reason:
        cond["reason"] = reason
    spec = {"domain": {"resources": {"requests": {"memory": memory}}}}
    if strategy:
        spec["evictionStrategy"] = strategy
    return {"metadata": {"name": name, "namespace": "vms", "uid": "uid-" + name}, "spec": spec,
            "status": {"nodeName": node_name, "conditions": [cond]}}


def storage_node(name, phase="Online"):
    return {"metadata": {"name": name, "namespace": "portworx"}, "status": {"phase": phase}}


NODES = [node("w1"), node("w2"), node("w3")]


def facts(vmis=(), nodes=None, pods=(), nms=(), sns=None, default=None):
    nodes = NODES if nodes is None else nodes
    sns = [storage_node(n["metadata"]["name"]) for n in nodes] if sns is None else sns
    return mp.MaintenanceFacts("w1", list(nodes), list(vmis), list(pods), list(nms), sns, default, portworx_served=True)


def test_clean_node_has_only_info_findings():
    findings, plan = mp.preflight(facts([vmi("a")]))
    assert mp.refusals(findings) == []
    assert plan[0]["outcome"] == mp.MIGRATE and plan[0]["memory"] == "2Gi"


def test_eviction_outcomes_follow_kubevirt():
    assert mp.eviction_outcome(vmi("a", strategy="LiveMigrate", migratable=False, reason="DisksNotLiveMigratable"))[0] == mp.BLOCK
    assert mp.eviction_outcome(vmi("a", migratable=False))[0] == mp.SHUT_DOWN
    assert mp.eviction_outcome(vmi("a", strategy=None))[0] == mp.SHUT_DOWN
    assert mp.eviction_outcome(vmi("a", strategy=None), cluster_default="LiveMigrate")[0] == mp.MIGRATE
    assert mp.eviction_outcome(vmi("a", strategy="None"), cluster_default="LiveMigrate")[0] == mp.SHUT_DOWN


def test_blocking_and_shutdown_vms_are_refused_with_reasons():
    findings, dummy = mp.preflight(facts([vmi("rwo", strategy="LiveMigrate", migratable=False, reason="DisksNotLiveMigratable"),
                                          vmi("plain", strategy=None)]))
    refused = mp.refusals(findings)
    assert len(refused) == 2
    text = " ".join(f["rule"] for f in refused)
    assert "block the drain" in text and "DisksNotLiveMigratable" in text and "shut down" in text
    assert "VirtualMachineInstance vms/rwo" in mp.refusal_rule(refused)


def test_other_node_in_maintenance_is_refused_beyond_max_unavailable():
    nodes = [node("w1"), node("w2", cordoned=True), node("w3")]
    assert any("max_unavailable is 1" in f["rule"] for f in mp.refusals(mp.preflight(facts(nodes=nodes))[0]))
    assert mp.refusals(mp.preflight(facts(nodes=nodes), max_unavailable=2)[0]) == []
    nm = {"spec": {"nodeName": "w3"}}
    assert mp.unavailable_nodes(facts(nodes=nodes, nms=[nm])) == ["w2", "w3"]


def test_this_node_already_cordoned_is_not_counted():
    nodes = [node("w1", cordoned=True), node("w2"), node("w3")]
    assert mp.unavailable_nodes(facts(nodes=nodes)) == []


def test_offline_storage_node_elsewhere_is_refused_but_own_is_not():
    sns = [storage_node("w1", "Initializing"), storage_node("w2", "Offline"), storage_node("w3")]
    refused = mp.refusals(mp.preflight(facts(sns=sns))[0])
    assert [f["subject"] for f in refused] == ["StorageNode portworx/w2"]


def test_capacity_first_fit():
    nodes = [node("w1"), node("w2", memory="3Gi"), node("w3", memory="3Gi")]
    assert mp.refusals(mp.preflight(facts([vmi("a"), vmi("b")], nodes=nodes))[0]) == []
    refused = mp.refusals(mp.preflight(facts([vmi("a", memory="2Gi"), vmi("b", memory="2Gi"), vmi("c", memory="2Gi")], nodes=nodes))[0])
    assert refused and refused[0]["vms"] == ["vms/c"]
    pods = [{"metadata": {"name": "p"}, "spec": {"nodeName": "w2", "containers": [{"resources": {"requests": {"memory": "3Gi"}}}]},
             "status": {"phase": "Running"}}]
    assert mp.free_memory(nodes, pods, "w1") == {"w2": 0, "w3": 3 * 2 ** 30}


def test_control_plane_and_not_ready_nodes_do_not_count_as_room():
    nodes = [node("w1"), node("m1", labels={"node-role.kubernetes.io/master": ""}), node("w2", ready=False)]
    assert mp.free_memory(nodes, [], "w1") == {}


def test_launcher_memory_preferred_over_vmi():
    the_vmi = vmi("a", memory="1Gi")
    launcher = {"metadata": {"labels": {"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": "uid-a"}},
                "spec": {"nodeName": "w1", "containers": [{"resources": {"requests": {"memory": "1280Mi"}}}]}}
    f = facts([the_vmi], pods=[launcher])
    assert mp.classify_vms(f)[0]["memory"] == "1280Mi"


def test_external_strategy_is_left_to_the_external_controller_not_migrated():
    # Upstream KubeVirt blocks the eviction of an External VMI and sets status.evacuationNodeName; it does not migrate.
    for migratable in (True, False):
        outcome, why = mp.eviction_outcome(vmi("x", strategy="External", migratable=migratable))
        assert outcome == mp.EXTERNAL_MOVE and "external controller" in why
    assert mp.eviction_outcome(vmi("x", strategy=None), cluster_default="External")[0] == mp.EXTERNAL_MOVE
    findings, plan = mp.preflight(facts([vmi("x", strategy="External")]))
    assert plan[0]["outcome"] == "external"
    assert mp.refusals(findings) == []
    assert [f["severity"] for f in findings if f["subject"] == "VirtualMachineInstance vms/x"] == ["warning"]


def cpu_node(name, memory="64Gi", cpu="8", vendor="Intel", cordoned=False):
    the_node = node(name, memory=memory, cordoned=cordoned,
                    labels={mp.WORKER_ROLE_LABEL: "", "cpu-vendor.node.kubevirt.io/" + vendor: "true"})
    the_node["status"]["allocatable"]["cpu"] = cpu
    return the_node


def cpu_vmi(name, cpu, memory="2Gi"):
    the_vmi = vmi(name, memory=memory)
    the_vmi["spec"]["domain"]["resources"]["requests"]["cpu"] = cpu
    return the_vmi


def test_room_check_counts_cpu_not_only_memory():
    nodes = [cpu_node("w1"), cpu_node("w2", cpu="3"), cpu_node("w3", cpu="3500m")]
    assert mp.refusals(mp.preflight(facts([cpu_vmi("a", "2"), cpu_vmi("b", "3")], nodes=nodes))[0]) == []
    busy = [{"metadata": {"name": "p", "namespace": "x"}, "status": {"phase": "Running"},
             "spec": {"nodeName": "w3", "containers": [{"resources": {"requests": {"cpu": "2"}}}]}}]
    refused = mp.refusals(mp.preflight(facts([cpu_vmi("a", "2"), cpu_vmi("b", "3")], nodes=nodes, pods=busy))[0])
    assert refused and refused[0]["vms"] == ["vms/a"] and "CPU" in refused[0]["rule"]
    assert "w3=64Gi memory/1500m CPU" in refused[0]["rule"]
    plan = mp.classify_vms(facts([cpu_vmi("a", "1500m")], nodes=nodes))
    assert plan[0]["cpu"] == "1500m"


def test_finished_pods_hold_no_room():
    nodes = [cpu_node("w1"), cpu_node("w2", memory="4Gi")]
    done = [{"metadata": {"name": "old-launcher"}, "status": {"phase": "Succeeded"},
             "spec": {"nodeName": "w2", "containers": [{"resources": {"requests": {"memory": "3Gi", "cpu": "4"}}}]}}]
    assert mp.refusals(mp.preflight(facts([cpu_vmi("a", "1", memory="3Gi")], nodes=nodes, pods=done))[0]) == []


def test_mixed_cpu_vendors_warn():
    nodes = [cpu_node("w1"), cpu_node("w2"), cpu_node("w3", vendor="AMD"), cpu_node("w4", vendor="AMD", cordoned=True)]
    findings = mp.preflight(facts([vmi("a")], nodes=nodes), max_unavailable=2)[0]
    warned = [f for f in findings if f["severity"] == "warning" and f["subject"] == "Node w1"]
    assert len(warned) == 1 and "CPU vendor is Intel" in warned[0]["rule"] and "AMD: w3" in warned[0]["rule"]
    same = [cpu_node("w1"), cpu_node("w2")]
    assert not [f for f in mp.preflight(facts([vmi("a")], nodes=same))[0] if "vendor" in f["rule"]]


def test_pods_held_by_a_disruption_budget_are_named():
    app = {"metadata": {"name": "db-0", "namespace": "apps", "labels": {"app": "db"}}, "spec": {"nodeName": "w1"},
           "status": {"phase": "Running"}}
    budget = {"metadata": {"name": "db-pdb", "namespace": "apps"}, "spec": {"selector": {"matchLabels": {"app": "db"}}},
              "status": {"disruptionsAllowed": 0}}
    relaxed = {"metadata": {"name": "web-pdb", "namespace": "apps"}, "spec": {"selector": {"matchLabels": {"app": "db"}}},
               "status": {"disruptionsAllowed": 1}}
    f = facts(pods=[app])
    f.disruption_budgets = [budget, relaxed]
    warned = [x for x in mp.preflight(f)[0] if x["subject"] == "Pod apps/db-0"]
    assert len(warned) == 1 and warned[0]["budgets"] == ["db-pdb"] and "db-pdb" in warned[0]["rule"]
    f.disruption_budgets = [relaxed]
    assert not [x for x in mp.preflight(f)[0] if x["subject"] == "Pod apps/db-0"]


def test_portworx_health_needs_the_cluster_and_the_node_back():
    healthy = {"metadata": {"name": "px", "namespace": "portworx"}, "status": {"phase": "Online"}}
    degraded = {"metadata": {"name": "px", "namespace": "portworx"}, "status": {"phase": "Degraded"}}
    back = storage_node("w1")
    assert mp.portworx_health_problems([healthy], back) == []
    assert mp.portworx_health_problems([degraded], back) == ["StorageCluster portworx/px is Degraded"]
    assert mp.portworx_health_problems([healthy], storage_node("w1", "Initializing")) == ["Portworx StorageNode is Initializing"]
    lagging = storage_node("w1")
    lagging["status"]["conditions"] = [{"type": "NodeState", "status": "Maintenance"}]
    assert mp.portworx_health_problems([healthy], lagging) == ["Portworx StorageNode condition NodeState is Maintenance"]
