"""Kubernetes resource quantities (``10Gi``, ``500m``, ``1e3``) as exact fractions.

Used by admission (PVC shrink checks) and by operators (capacity, allocatable) so every part of
the simulator compares sizes the same way the apiserver does.
"""
from __future__ import annotations

import functools
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


# --- canonical form -------------------------------------------------------------------------------
# What a built-in type's ``resource.Quantity`` marshals to (kubernetes/apimachinery release-1.33,
# ``pkg/api/resource/quantity.go`` ``CanonicalizeBytes``, ``AsCanonicalBytes``,
# ``AsCanonicalBase1024Bytes``; ``ParseQuantity`` rounds up to nano precision): the suffix of the
# input picks the format (binary ``Ki``..``Ei``, exponent ``e3``, else decimal SI); a binary
# quantity strictly between -1024 and 1024, or with a fraction, is shown in decimal SI; decimal
# forms use an integer mantissa with the largest exponent that is a multiple of 3.
_DECIMAL_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
_BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_NANO = Fraction(1, 10**9)
_MILLI = Fraction(1, 1000)


def _format_of(value: Union[str, int, float]) -> str:
    if isinstance(value, (int, float)):
        return "DecimalSI"
    match = _PATTERN.match(str(value).strip())
    suffix = (match.group(2) if match else "") or ""
    if suffix in _BINARY:
        return "BinarySI"
    if suffix[:1] in ("e", "E"):
        return "DecimalExponent"
    return "DecimalSI"


def _round_up(amount: Fraction, unit: Fraction) -> Fraction:
    """Round away from zero to a multiple of ``unit`` (inf.Dec RoundUp)."""
    scaled = amount / unit
    if scaled.denominator == 1:
        return amount
    whole = -((-abs(scaled).numerator) // abs(scaled).denominator)
    return Fraction(whole if amount > 0 else -whole) * unit


def _decimal(amount: Fraction, exponent_form: bool) -> str:
    exponent = -9
    mantissa = amount / _NANO
    while exponent < 18 and (mantissa / 1000).denominator == 1:
        mantissa /= 1000
        exponent += 3
    number = str(int(mantissa))
    if exponent_form:
        return number + (f"e{exponent}" if exponent else "")
    return number + _DECIMAL_SUFFIXES[exponent]


def canonical_quantity(value: Union[str, int, float], milli: bool = False) -> str:
    """The canonical string of a quantity; see :func:`_canonical` (memoised: the same few values
    come back on every pod and node write).  ``milli``: rounded up to milli precision first, as
    ``SetDefaults_ResourceList`` (kubernetes/kubernetes ``pkg/apis/core/v1/defaults.go``) does."""
    if isinstance(value, bool):
        raise QuantityError(f"quantities must match the regular expression: {value!r}")
    return _canonical(value, type(value), milli)


@functools.lru_cache(maxsize=4096)
def _canonical(value: Union[str, int, float], _type: type, milli: bool = False) -> str:
    """The canonical string of a quantity (``1024Mi`` → ``1Gi``, ``0.5`` → ``500m``, ``2000`` →
    ``2k``); raises QuantityError when ``value`` is not a quantity."""
    amount = _round_up(parse_quantity(value), _MILLI if milli else _NANO)
    if amount == 0:
        return "0"
    form = _format_of(value)
    if form == "BinarySI" and -1024 < amount < 1024 or form == "BinarySI" and amount.denominator != 1:
        form = "DecimalSI"
    if form != "BinarySI":
        return _decimal(amount, form == "DecimalExponent")
    number, power = int(amount), 0
    while power < len(_BINARY_SUFFIXES) - 1 and number % 1024 == 0:
        number //= 1024
        power += 1
    return f"{number}{_BINARY_SUFFIXES[power]}"
