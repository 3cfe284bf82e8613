"""Make ``ansible_collections.ocpvirt.portworx`` and kubernetes.core importable under plain pytest."""

import os

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _install_collection_finder():
    # kubernetes.core comes with the `ansible` distribution, in the site-packages that hold ansible-core.
    import ansible

    site_packages = os.path.dirname(os.path.dirname(os.path.abspath(ansible.__file__)))
    paths = [os.path.join(REPO_ROOT, ".collections"), site_packages]
    _AnsibleCollectionFinder(paths=paths)._install()


_install_collection_finder()
