"""Whether a container image reference parses, as the kubelet checks it before any pull.

kubernetes/kubernetes release-1.33 ``pkg/kubelet/images/image_manager.go`` ``EnsureImageExists``:
``applyDefaultImageTag`` parses the image with ``ParseNormalizedNamed`` of
github.com/distribution/reference (``normalize.go``, ``reference.go``, ``regexp.go``); a
reference that does not parse leaves the container waiting with reason ``InvalidImageName`` and
the message ``Failed to apply default image tag "<image>": couldn't parse image name "<image>":
<the parser's error>`` (event ``InspectFailed``). The grammar:

* ``name`` = optional ``domain[:port]/`` then path components ``[a-z0-9]+`` joined by ``.``,
  ``_``, ``__`` or runs of ``-``, separated by ``/``; at most 255 characters;
* ``:tag`` = ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``; ``@digest`` = ``algorithm:hex`` (32+ hex);
* the first component is the domain only if it contains ``.`` or ``:``, is ``localhost``, or has
  upper-case letters; else the domain is ``docker.io`` and a single component gets ``library/``;
* a remote name with upper-case letters: "invalid reference format: repository name (<remote>)
  must be lowercase"; 64 hex characters alone: "invalid repository name (<s>), cannot specify
  64-byte hexadecimal strings"; anything else that does not match: "invalid reference format".

Only the grammar is checked: whether a registry holds the image is not simulated (every valid
reference "pulls").
"""
from __future__ import annotations

import re
from typing import Optional

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = f"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
REFERENCE = re.compile(f"^(?P<name>{_NAME})(?::{_TAG})?(?:@{_DIGEST})?$")
_HEX64 = re.compile(r"^[a-f0-9]{64}$")
NAME_MAX = 255
DEFAULT_DOMAIN = "docker.io"


def split_domain(name: str) -> "tuple[str, str]":
    """``splitDockerDomain``: (domain, remainder) with ``library/`` for official images."""
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = "library/" + remainder
    return domain, remainder


def reference_error(image: str) -> Optional[str]:
    """The parser's error for ``image``, or None when it is a valid reference."""
    if _HEX64.match(image):
        return f"invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
    domain, remainder = split_domain(image)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        return f"invalid reference format: repository name ({remote}) must be lowercase"
    normalized = f"{domain}/{remainder}"
    if not normalized or normalized == "/":
        return "repository name must have at least one component"
    match = REFERENCE.match(normalized)
    if match is None:
        return "invalid reference format"
    if len(match.group("name")) > NAME_MAX:
        return f"repository name must not be more than {NAME_MAX} characters"
    return None


def invalid_image_message(image: str) -> Optional[str]:
    """The kubelet's waiting message for an image it cannot parse, or None."""
    error = reference_error(image)
    if error is None:
        return None
    return f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": {error}'
