import itertools

from ansible_collections.ocpvirt.portworx.plugins.module_utils.backoff import doubling


def test_doubling_is_capped_at_the_longest_pause():
    assert list(itertools.islice(doubling(0.2, 1.0), 6)) == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


def test_doubling_leaves_a_first_pause_above_the_cap_to_the_caller():
    # RetryPolicy keeps an initial_delay above max_delay for the first retry; waiting.pauses caps it itself
    assert list(itertools.islice(doubling(3.0, 1.0), 3)) == [3.0, 1.0, 1.0]
