"""Facts the role documents state must match the upstream APIs they describe."""

import os
import re

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def doc_lines(name, needle):
    with open(os.path.join(REPO_ROOT, "docs", "roles", name)) as handle:
        return [line for line in handle if needle in line]


def test_csi_clone_is_described_as_volume_cloning_not_snapshots():
    # CDI's StorageProfile cloneStrategy: csi-clone uses CSI volume cloning; snapshot uses VolumeSnapshots
    # (kubevirt/containerized-data-importer api/pkg/apis/core/v1beta1/types.go, CDICloneStrategy).
    lines = doc_lines("portworx_storage.md", "`csi-clone`")
    assert lines
    for line in lines:
        explanation = line.split("|")[2] if line.startswith("|") else line
        assert "clon" in explanation.lower()
        assert not re.search(r"csi-clone[^|]*\|[^|]*with Portworx snapshots", line)
        assert "CSI volume cloning" in explanation
