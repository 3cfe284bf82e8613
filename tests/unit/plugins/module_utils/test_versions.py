"""One image-reference parser and one version reader for the upgrade plan and the readiness rules."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.portworx_upgrade_plan import image_version
from ansible_collections.ocpvirt.portworx.plugins.module_utils.portworx_upgrade_plan import version_tuple as upgrade_version
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import version_tuple as readiness_version
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_portworx import portworx_version
from ansible_collections.ocpvirt.portworx.plugins.module_utils.versions import ImageReference, image_tag, parse_image, version_tuple

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("reference, parsed", [
    ("portworx/oci-monitor:3.6.1", ImageReference(None, "portworx/oci-monitor", "3.6.1", None)),
    ("portworx/oci-monitor", ImageReference(None, "portworx/oci-monitor", None, None)),
    ("oci-monitor", ImageReference(None, "oci-monitor", None, None)),
    ("registry:5000/portworx/oci-monitor:3.6.1", ImageReference("registry:5000", "portworx/oci-monitor", "3.6.1", None)),
    ("registry:5000/portworx/oci-monitor", ImageReference("registry:5000", "portworx/oci-monitor", None, None)),
    ("docker.io/portworx/oci-monitor:3.6.1@" + DIGEST, ImageReference("docker.io", "portworx/oci-monitor", "3.6.1", DIGEST)),
    ("portworx/oci-monitor@" + DIGEST, ImageReference(None, "portworx/oci-monitor", None, DIGEST)),
    ("registry:5000/portworx/oci-monitor@" + DIGEST, ImageReference("registry:5000", "portworx/oci-monitor", None, DIGEST)),
    ("localhost/px:3.6.1", ImageReference("localhost", "px", "3.6.1", None)),
    ("", ImageReference(None, "", None, None)),
    (None, ImageReference(None, "", None, None)),
])
def test_parse_image(reference, parsed):
    assert parse_image(reference) == parsed


def test_a_digest_is_never_part_of_the_tag_in_either_caller():
    pinned = "portworx/oci-monitor:3.6.1@" + DIGEST
    assert image_tag(pinned) == "3.6.1"
    assert image_version(pinned) == "3.6.1"  # was "3.6.1@sha256:..." before the shared parser
    assert portworx_version({"spec": {"image": pinned}}) == ("3.6.1", "spec.image")
    assert image_version("registry:5000/portworx/oci-monitor@" + DIGEST) is None
    assert portworx_version({"spec": {"image": "portworx/oci-monitor@" + DIGEST}}) == (None, "none")
    assert portworx_version({"spec": {"image": "registry:5000/portworx/oci-monitor:latest"}}) == (None, "none")


@pytest.mark.parametrize("text, strict, loose", [
    ("3.5.2", (3, 5, 2), (3, 5, 2)),
    ("v4.20.3-rc.1", (4, 20, 3), (4, 20, 3)),
    ("3.5", (3, 5, 0), (3, 5)),
    ("7", None, (7,)),
    ("release-2024", None, (2024,)),
    ("latest", None, None),
    ("", None, None),
    (None, None, None),
])
def test_version_tuple_requires_a_minor_only_when_asked(text, strict, loose):
    assert version_tuple(text) == strict == readiness_version(text)
    assert version_tuple(text, require_minor=False) == loose == upgrade_version(text)
