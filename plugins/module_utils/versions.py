# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version numbers and the container image references they are read from.

An image reference is ``[host[:port]/]path[:tag][@digest]`` (the grammar of
distribution/reference ``reference.go``): the first path component is a registry host when it
holds a ``.`` or a ``:`` or is ``localhost``; the tag follows the last ``:`` of the last path
component; a digest (``sha256:...``) follows ``@`` and may stand alone or after a tag.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

ImageReference = collections.namedtuple("ImageReference", ["registry", "repository", "tag", "digest"])

_DOTTED = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_image(reference):
    """``reference`` split into registry (or None), repository path, tag (or None) and digest (or None)."""
    text = str(reference or "").strip()
    name, _at, digest = text.partition("@")
    registry = None
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    path, _colon, tag = name.rpartition(":") if ":" in name.rpartition("/")[2] else (name, "", "")
    return ImageReference(registry, path, tag or None, digest or None)


def image_tag(reference):
    """The tag of an image reference (``portworx/oci-monitor:3.6.1@sha256:...`` -> ``3.6.1``); None without one."""
    return parse_image(reference).tag


def version_tuple(text, require_minor=True):
    """The version number in ``text`` as a tuple of ints, or None when there is none.

    ``require_minor=True`` (what the readiness rules compare against minimums): the first ``X.Y`` or
    ``X.Y.Z`` in the text, padded to three numbers — ``"v4.20.3-rc.1"`` -> ``(4, 20, 3)``,
    ``"3.5"`` -> ``(3, 5, 0)``, ``"7"`` -> None. ``require_minor=False`` (comparing two image tags):
    the first three runs of digits anywhere, unpadded — ``"7"`` -> ``(7,)``, ``"3.6"`` -> ``(3, 6)``.
    """
    if require_minor:
        match = _DOTTED.search(str(text or ""))
        return tuple(int(part or 0) for part in match.groups()) if match else None
    numbers = re.findall(r"\d+", str(text or ""))
    return tuple(int(number) for number in numbers[:3]) if numbers else None
