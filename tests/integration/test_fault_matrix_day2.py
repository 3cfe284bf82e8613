"""The fault matrix (see ``fault_matrix.py``) for the day-2 and VM modules."""

import pytest
from fault_matrix import DAY2, TRANSIENT_RUNS, check_exhausted_last_write, check_transient_faults_converge, module_case, simulator_pool


@pytest.fixture(scope="module")
def simulators():
    yield from simulator_pool()


@pytest.fixture(params=DAY2, ids=repr)
def case(request, simulators, tmp_path):
    yield from module_case(request.param, simulators, tmp_path)


@pytest.mark.parametrize("run_index", **TRANSIENT_RUNS)
def test_transient_faults_converge(case, run_index):
    check_transient_faults_converge(case, run_index)


def test_exhausted_last_write_fails_in_one_line_naming_what_is_left_and_the_rerun_converges(case):
    check_exhausted_last_write(case)
