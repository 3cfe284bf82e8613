"""The fault matrix (see ``fault_matrix.py``) for the day-2 and VM modules."""

from fault_matrix import (  # noqa: F401 - the matrix's tests, collected here with this file's fixtures
    DAY2,
    Runner,
    assert_one_line,
    matrix_fixtures,
    test_exhausted_last_write_fails_in_one_line_naming_what_is_left_and_the_rerun_converges,
    test_transient_faults_converge,
)

simulators, case = matrix_fixtures(DAY2)


# --- the node_maintenance role's own reads of the nodes (kubernetes.core.k8s_info) -----------------
MAINTENANCE_ROLE = [{"name": "maintenance", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.node_maintenance"},
                     "vars": {"node_maintenance_nodes": ["worker-0", "no-such-node"], "node_maintenance_campaign": "fm"}}]
LIST_NODES = dict(verb="list", resource="nodes")
#: the role's reads try 6 times (retries: 5)
READ_ATTEMPTS = 6


def test_maintenance_role_retries_its_node_reads_and_then_judges_what_it_read(simulators, tmp_path):
    sim = simulators("default")
    sim.reset()
    sim.settle()
    sim.add_fault(code=500, count=2, **LIST_NODES)
    try:
        run = Runner(sim, tmp_path)(MAINTENANCE_ROLE)
    finally:
        sim.clear_faults()
    # Past the faulted reads, the role refuses the unknown node: proof that the reads were retried.
    assert not run.ok and "These nodes do not exist: no-such-node. Nothing was changed." in run.last["msg"], run
    assert run.writes == 0, run


def test_maintenance_role_stops_in_one_line_after_its_read_retries(simulators, tmp_path):
    sim = simulators("default")
    sim.reset()
    sim.settle()
    sim.add_fault(code=500, count=READ_ATTEMPTS, **LIST_NODES)
    try:
        run = Runner(sim, tmp_path)(MAINTENANCE_ROLE)
    finally:
        sim.clear_faults()
    assert not run.ok, run
    assert_one_line(run, anywhere=False)
    assert run.last["msg"].startswith("Rolling maintenance did not start (nothing was changed): Read the state of every node failed with HTTP 500"), run
    assert run.writes == 0, run
