from decimal import Decimal

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import (
    compare_quantities,
    format_bytes,
    parse_quantity,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("300Gi", 300 * 2 ** 30),
        ("1.5Ti", Decimal("1.5") * 2 ** 40),
        ("500G", 500 * 10 ** 9),
        ("512Mi", 512 * 2 ** 20),
        ("100m", Decimal("0.1")),
        ("1e3", 1000),
        ("42", 42),
        (7, 7),
    ],
)
def test_parse_quantity(text, expected):
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "Gi", "10 Gi", "10GB", "1e3Gi", "ten", "1.2.3Gi"])
def test_parse_quantity_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize(
    "amount, expected",
    [(20 * 2 ** 30, "20Gi"), (1536 * 2 ** 20, "1536Mi"), (2 ** 40, "1Ti"), (1000, "1000"), (0, "0")],
)
def test_format_bytes(amount, expected):
    assert format_bytes(amount) == expected


def test_compare_quantities_across_units():
    assert compare_quantities("1Gi", "1024Mi") == 0
    assert compare_quantities("1G", "1Gi") == -1
    assert compare_quantities("20Gi", "10Gi") == 1
