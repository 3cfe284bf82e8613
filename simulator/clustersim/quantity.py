"""Kubernetes resource quantities (``10Gi``, ``500m``, ``1e3``) as exact fractions.

Used by admission (PVC shrink checks) and by operators (capacity, allocatable) so every part of
the simulator compares sizes the same way the apiserver does.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Union

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_PATTERN = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


class QuantityError(ValueError):
    pass


def parse_quantity(value: Union[str, int, float]) -> Fraction:
    """Return the quantity as an exact Fraction; raise QuantityError when it is not one."""
    if isinstance(value, bool):
        raise QuantityError(f"quantities must match the regular expression: {value!r}")
    if isinstance(value, (int, float)):
        return Fraction(value)
    text = str(value).strip()
    match = _PATTERN.match(text)
    if not match:
        raise QuantityError(f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    number, suffix = match.group(1), match.group(2) or ""
    try:
        base = Fraction(number)
    except ValueError as exc:
        raise QuantityError(str(exc)) from None
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    if suffix in _DECIMAL:
        return base * _DECIMAL[suffix]
    return base * Fraction(10) ** int(suffix[1:])  # exponent form, 1e3


def format_bytes(value: Union[int, Fraction]) -> str:
    """Format a byte count the way the apiserver canonicalises binary quantities (``20Gi``)."""
    number = int(value)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if number and number % unit == 0:
            return f"{number // unit}{suffix}"
    return str(number)
