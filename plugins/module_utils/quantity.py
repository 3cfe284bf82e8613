# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities ("300Gi", "1.5T", "512Mi", "100m") as exact numbers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal, InvalidOperation

BINARY_SUFFIXES = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]{0,2})$")


def parse_quantity(value):
    """The exact value of a quantity as a Decimal; raises ValueError for anything else."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("{0!r} is not a Kubernetes quantity (examples: 20Gi, 500M, 1.5Ti)".format(value))
    number, suffix = match.groups()
    if "e" in number.lower() and suffix:
        raise ValueError("{0!r} is not a Kubernetes quantity: an exponent cannot take a suffix".format(value))
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError("{0!r} is not a Kubernetes quantity".format(value))
    if suffix in BINARY_SUFFIXES:
        return amount * BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return amount * DECIMAL_SUFFIXES[suffix]
    raise ValueError("{0!r} has an unknown suffix {1!r} (use Ki, Mi, Gi, Ti or k, M, G, T)".format(value, suffix))


def format_bytes(amount):
    """The shortest exact binary quantity for a byte count: 21474836480 -> "20Gi"."""
    amount = Decimal(amount)
    if amount == amount.to_integral_value():
        for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
            unit = BINARY_SUFFIXES[suffix]
            if amount and amount % unit == 0:
                return "{0}{1}".format(int(amount // unit), suffix)
        return str(int(amount))
    return str(amount.normalize())


def compare_quantities(left, right):
    """-1, 0 or 1 as ``left`` is smaller than, equal to or larger than ``right``."""
    a, b = parse_quantity(left), parse_quantity(right)
    return (a > b) - (a < b)
