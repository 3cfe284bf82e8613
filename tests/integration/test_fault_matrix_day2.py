"""The fault matrix (see ``fault_matrix.py``) for the day-2 and VM modules."""

from fault_matrix import (  # noqa: F401 - the matrix's tests, collected here with this file's fixtures
    DAY2,
    matrix_fixtures,
    test_exhausted_last_write_fails_in_one_line_naming_what_is_left_and_the_rerun_converges,
    test_transient_faults_converge,
)

simulators, case = matrix_fixtures(DAY2)
