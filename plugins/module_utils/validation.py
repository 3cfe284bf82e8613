# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values checked before a module reads or writes anything.

Ansible's argument spec checks types, choices and required options; it cannot say that a size is a
positive Kubernetes quantity, that a name is what the API accepts for that kind, that a count is in
range or that a map holds booleans. A module lists such rules as ``(option path, check)`` pairs
and :func:`check_options` applies them: the first value that breaks a rule ends the task with one
:class:`Refusal` line (the object, the option and its rule, the fix) before any request is sent.

Paths name an option (``size``), a suboption (``live_migration.bandwidth_per_migration``), every
element of a list (``claim_property_sets[].access_modes``) or every value or key of a map
(``feature_gates.*`` / ``parameters.<key>``). Options left unset (``None``) are not checked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2
    from urlparse import urlsplit

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal

try:
    from kubernetes.utils import parse_quantity
except ImportError:  # the kubernetes client is a requirement of every module; keep the unit tests importable
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import parse_quantity

# apimachinery validation (k8s.io/apimachinery/pkg/util/validation/validation.go): IsDNS1123Label
# and IsDNS1123Subdomain, 63 and 253 characters.
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_MAX = 63
SUBDOMAIN_MAX = 253
# The serialized form of a resource.Quantity (k8s.io/apimachinery/pkg/api/resource/quantity.go):
# a signed decimal number, then a binary suffix (Ki..Ei), a decimal suffix (n u m k M G T P E) or an
# exponent. kubernetes.utils.parse_quantity is more lenient (it takes "K"), so both are applied.
QUANTITY_GRAMMAR = re.compile(
    r"^[+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
SUB_UNIT_SUFFIXES = ("n", "u", "m")


class InvalidValue(ValueError):
    """A value that breaks a rule; ``fix`` says what would be accepted."""

    def __init__(self, rule, fix):
        super(InvalidValue, self).__init__(rule)
        self.rule = rule
        self.fix = fix


# names ---------------------------------------------------------------------------------------
def _name_check(kind, pattern, maximum, what, reserve=0):
    def check(value):
        text = _required_text(value, "{0} name".format(kind))
        if len(text) > maximum - reserve:
            extra = " (the module appends {0} characters to it)".format(reserve) if reserve else ""
            raise InvalidValue(
                "is {0} characters long; a {1} name is at most {2}{3}".format(len(text), kind, maximum - reserve, extra),
                "Use a shorter name.",
            )
        if not pattern.match(text):
            raise InvalidValue(
                "is not a valid {0} name: it must be a DNS-1123 {1} (lower-case letters, digits{2} and '-', starting and "
                "ending with a letter or digit)".format(kind, what, ", '.'" if what == "subdomain" else ""),
                "Give the {0} name exactly as the cluster lists it.".format(kind),
            )
    return check


def dns_label(kind, reserve=0):
    """A name the API validates as a DNS-1123 label (Namespaces, VirtualMachines)."""
    return _name_check(kind, DNS1123_LABEL, LABEL_MAX, "label", reserve)


def dns_subdomain(kind, reserve=0):
    """A name the API validates as a DNS-1123 subdomain (most kinds). ``reserve``: characters the module appends."""
    return _name_check(kind, DNS1123_SUBDOMAIN, SUBDOMAIN_MAX, "subdomain", reserve)


def _required_text(value, what):
    if not isinstance(value, str):
        raise InvalidValue("is a {0}, not a string".format(type(value).__name__), "Give the {0} as a string.".format(what))
    if not value.strip():
        raise InvalidValue(
            "is empty; the API needs a {0} (an empty name would address the whole collection)".format(what),
            "Give the {0}, or leave the option out where it has a default.".format(what),
        )
    return value


def non_empty_text(what):
    def check(value):
        _required_text(value, what)
    return check


def check_text(accepts, rule, fix):
    """A string that ``accepts(text)`` is true for."""
    def check(value):
        if not isinstance(value, str):
            raise InvalidValue("is a {0}, not a string".format(type(value).__name__), fix)
        if not accepts(value):
            raise InvalidValue(rule, fix)
    return check


def one_of(*allowed):
    def check(value):
        if value not in allowed:
            raise InvalidValue("must be one of {0}".format(", ".join(allowed)), "Choose one of {0}.".format(", ".join(allowed)))
    return check


def base_url(example):
    """An absolute http(s) URL with a host, to which a module appends an API path (so no query or fragment)."""
    fix = "Give an absolute URL such as {0}.".format(example)

    def check(value):
        if not isinstance(value, str):
            raise InvalidValue("is a {0}, not a string".format(type(value).__name__), fix)
        if not value.strip():
            raise InvalidValue("is empty", "{0} Leave the option out to use the default.".format(fix))
        if any(char.isspace() for char in value):
            raise InvalidValue("contains white space", fix)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValue("is not an absolute http:// or https:// URL with a host", fix)
        if parts.query or parts.fragment or value.endswith(("?", "#")):
            raise InvalidValue("has a query or fragment, but the API path is appended to it", fix)
    return check


# A label selector as k8s.io/apimachinery/pkg/labels/selector.go parses it: requirements joined by
# commas, each "key", "!key", "key=value", "key==value", "key!=value", "key in (v, ...)" or
# "key notin (v, ...)"; keys are qualified names (an optional DNS-1123 subdomain prefix and "/",
# then at most 63 characters), values are label values (at most 63 characters, may be empty).
# The numeric "gt"/"lt" operators of node selectors are not label selector syntax.
_QUALIFIED_NAME = r"(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
_SELECTOR_REQUIREMENT = re.compile(
    r"^\s*(?:!\s*{key}|{key}\s*(?:(?:==?|!=)\s*{value}|\s(?:in|notin)\s*\(\s*{value}(?:\s*,\s*{value})*\s*\))?)\s*$".format(
        key=_QUALIFIED_NAME, value=_LABEL_VALUE)
)


def _selector_requirements(text):
    """The comma-separated requirements of a selector; commas inside a set's parentheses do not split."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def label_selector():
    fix = "Give a label selector such as app=db,tier in (a,b) or !legacy."

    def check(value):
        if not isinstance(value, str):
            raise InvalidValue("is a {0}, not a string".format(type(value).__name__), fix)
        if not value.strip():
            raise InvalidValue("is empty; leave the option out to select every object", fix)
        for requirement in _selector_requirements(value):
            if not _SELECTOR_REQUIREMENT.match(requirement):
                raise InvalidValue("is not a label selector (requirement {0!r})".format(requirement.strip()), fix)
    return check


def namespaced_name(kind):
    """``namespace/name`` of a namespaced object, both DNS-1123 labels (how lists of VMs name them)."""
    fix = "Write the {0} as namespace/name, for example vms/rhel9-web.".format(kind)
    namespace_check, name_check = dns_label("Namespace"), dns_label(kind)

    def check(value):
        text = _required_text(value, "{0} namespace/name".format(kind))
        parts = text.split("/")
        if len(parts) != 2:
            raise InvalidValue("is not namespace/name (exactly one '/')", fix)
        for part, part_check in zip(parts, (namespace_check, name_check)):
            try:
                part_check(part)
            except InvalidValue as invalid:
                raise InvalidValue("has the part {0!r}, which {1}".format(part, invalid.rule), fix)
    return check


# Container image references as github.com/distribution/reference (regexp.go, the grammar the
# container runtimes parse): [domain[:port]/]path[:tag][@digest]; path components lower-case
# alphanumerics joined by '.', '_', '__' or dashes; tags at most 128 word characters, '.' or '-';
# the name at most 255 characters.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*" \
          r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
IMAGE_REFERENCE = re.compile(
    r"^(?P<name>(?:{domain}/)?{path}(?:/{path})*)(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}}))?$".format(
        domain=_DOMAIN, path=_PATH_COMPONENT)
)
IMAGE_NAME_MAX = 255


def image_reference(example, require_tag=False):
    """A container image reference; ``require_tag``: the module reads the version from the tag."""
    fix = "Give an image reference such as {0}.".format(example)

    def check(value):
        text = _required_text(value, "container image reference")
        match = IMAGE_REFERENCE.match(text)
        if not match:
            raise InvalidValue(
                "is not a container image reference ([registry/]repository[:tag][@digest], the repository in lower case, "
                "no white space or URL scheme)", fix)
        if len(match.group("name")) > IMAGE_NAME_MAX:
            raise InvalidValue("has a repository name longer than {0} characters".format(IMAGE_NAME_MAX), fix)
        if require_tag and not match.group("tag"):
            raise InvalidValue("has no version tag; the module reads the target version from it", fix)
    return check


# Go durations as time.ParseDuration reads them (src/time/format.go): a sequence of decimal numbers,
# each with a unit ns, us (or µs), ms, s, m, h, e.g. "10m" or "1h30m".
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_DURATION_SECONDS = {"ns": 1e-9, "us": 1e-6, u"\u00b5s": 1e-6, u"\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(example="10m"):
    """A positive Go duration such as ``10m``; a bare number has no unit and is refused, as Go refuses it."""
    fix = "Give a duration such as {0} or 1h30m (a number and ns, us, ms, s, m or h).".format(example)

    def check(value):
        text = _required_text(value, "duration")
        sign = -1.0 if text.startswith("-") else 1.0
        position = 1 if text[:1] in "+-" else 0
        seconds = 0.0
        for part in _DURATION_PART.finditer(text):
            number = part.group(1)
            if part.start() != position or number in ("", "."):
                break
            seconds += float(number) * _DURATION_SECONDS[part.group(2)]
            position = part.end()
        if position != len(text) or not seconds and not _DURATION_PART.search(text):
            raise InvalidValue("is not a Go duration", fix)
        if sign * seconds <= 0:
            raise InvalidValue("must be more than 0", fix)
    return check


# quantities ----------------------------------------------------------------------------------
MEBIBYTE = 2 ** 20


def quantity(example="20Gi", bytes_=True, allow_zero=False, at_least=None):
    """A Kubernetes quantity greater than zero (or at least zero); ``bytes_``: a whole number of bytes.

    ``at_least`` (bytes) catches a missing suffix: a volume ``size: 20`` is 20 bytes, not 20Gi.
    """
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidValue("is a {0}, not a Kubernetes quantity".format(type(value).__name__), "Give a quantity such as {0}.".format(example))
        text = str(value)
        if not QUANTITY_GRAMMAR.match(text):
            raise InvalidValue(
                "is not a Kubernetes quantity (a number with an optional suffix Ki, Mi, Gi, Ti or k, M, G, T; "
                "'GB' or 'gi' are not suffixes)",
                "Give a quantity such as {0}.".format(example),
            )
        try:
            amount = parse_quantity(text)
        except ValueError:
            raise InvalidValue("is not a Kubernetes quantity", "Give a quantity such as {0}.".format(example))
        if amount < 0 or (amount == 0 and not allow_zero):
            raise InvalidValue("must be {0} 0".format("at least" if allow_zero else "more than"), "Give a positive quantity such as {0}.".format(example))
        if bytes_ and (text.endswith(SUB_UNIT_SUFFIXES) or amount != int(amount)):
            raise InvalidValue("is not a whole number of bytes", "Give a size in bytes with a suffix such as {0}.".format(example))
        if at_least is not None and amount < at_least:
            raise InvalidValue(
                "is less than {0} bytes; a number without a suffix counts bytes".format(at_least),
                "Add the unit, for example {0}.".format(example),
            )
    return check


# numbers and types ---------------------------------------------------------------------------
def count(minimum=None, maximum=None, kind="int", above=False):
    """An int (a float with ``kind="float"``) in ``[minimum, maximum]`` (``above``: more than ``minimum``).

    Ansible has converted the value to the option's type already; the range is what it cannot check.
    """
    def check(value):
        low = minimum is not None and (value <= minimum if above else value < minimum)
        high = maximum is not None and value > maximum
        if not (low or high):
            return
        if maximum is None:
            rule = "must be {0} {1}".format("more than" if above else "at least", minimum)
        elif minimum is None:
            rule = "must be at most {0}".format(maximum)
        else:
            rule = "must be between {0} and {1}".format(minimum, maximum)
        raise InvalidValue(rule, "Give a {0} that {1}.".format("number" if kind == "float" else "whole number", rule.replace("must be ", "is ")))
    return check


def boolean_values(what):
    """A map whose values are YAML booleans; the string "false" would be sent as a non-empty, true-ish value."""
    def check(value):
        for key, item in sorted(value.items(), key=lambda pair: str(pair[0])):
            if not isinstance(item, bool):
                raise InvalidValue(
                    "has {0}: {1!r}, a {2}; every {3} must be a boolean".format(key, item, type(item).__name__, what),
                    "Write true or false without quotes (in a template use '| bool').",
                )
    return check


def string_values(what):
    """A map the API types as ``map[string]string``: numbers are taken as their text, nothing else is."""
    def check(value):
        for key, item in sorted(value.items(), key=lambda pair: str(pair[0])):
            if not str(key).strip():
                raise InvalidValue("has an empty key; every {0} needs a name".format(what), "Remove the entry or name it.")
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise InvalidValue(
                    "has {0}: {1!r}, a {2}; a {3} value must be a string".format(key, item, type(item).__name__, what),
                    "Quote the value (for a list, join it the way the provisioner expects, e.g. \"a,b\").",
                )
    return check


def non_empty_list(what):
    def check(value):
        if not value:
            raise InvalidValue(
                "is empty; {0}".format(what),
                "Give at least one entry, or leave the option out to keep the default.",
            )
    return check


def each_key(check_key):
    """Apply a name check to every key of a map (e.g. StorageClass names in a per-class map)."""
    def check(value):
        for key in sorted(value, key=str):
            try:
                check_key(key)
            except InvalidValue as invalid:
                raise InvalidValue("key {0!r} {1}".format(key, invalid.rule), invalid.fix)
    return check


def each_value(check_value):
    """Apply a check to every value of a map; the refusal names the key."""
    def check(value):
        for key in sorted(value, key=str):
            try:
                check_value(value[key])
            except InvalidValue as invalid:
                raise InvalidValue("has {0}: {1!r}, which {2}".format(key, value[key], invalid.rule), invalid.fix)
    return check


# applying rules ------------------------------------------------------------------------------
def _values_at(params, path):
    """``[(path shown, value)]`` for every value ``path`` names; unset options give nothing."""
    found = [("", params)]
    for part in path.split("."):
        step = []
        many = part.endswith("[]")
        key = part[:-2] if many else part
        for shown, value in found:
            if not isinstance(value, dict) or value.get(key) is None:
                continue
            child = value[key]
            where = "{0}.{1}".format(shown, key) if shown else key
            if many and isinstance(child, list):
                step.extend(("{0}[{1}]".format(where, index), item) for index, item in enumerate(child))
            else:
                step.append((where, child))
        found = step
    return found


def check_options(params, rules, subject):
    """Raise one :class:`Refusal` for the first option value that breaks its rule.

    ``rules`` is a sequence of ``(path, check)``; ``subject`` names the object the task is about.
    """
    for path, check in rules:
        for where, value in _values_at(params, path):
            try:
                check(value)
            except InvalidValue as invalid:
                raise Refusal(
                    subject,
                    "option {0} = {1} {2}".format(where, _shown(value), invalid.rule),
                    invalid.fix,
                    option=where,
                )


def _shown(value):
    """The value as the message shows it: repr (so '' and unicode are visible), at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_name(value):
    """How a subject line shows a name that may be empty or not a string."""
    if isinstance(value, str) and value.strip() and "\n" not in value:
        return value
    return repr(value)
