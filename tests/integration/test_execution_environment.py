"""The execution environment definition: ansible-builder creates its build context, and introspection
of the installed collection finds the Python and system packages of meta/execution-environment.yml.

Neither needs a container engine: ``create`` writes the Containerfile and context, ``introspect``
reads the collections' requirement files.
"""

import os
import shutil
import subprocess
import sys

import ansible_builder  # noqa: F401  (fails the module early when ansible-builder is not installed)
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
BUILDER = [sys.executable, "-m", "ansible_builder"]


def version():
    with open(os.path.join(REPO_ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["version"]


def build_tarball(tmp_path):
    """The release tarball, as `make build` makes it, under tmp_path/build/."""
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                    str(tmp_path / "build"), REPO_ROOT], check=True, capture_output=True, cwd=REPO_ROOT)
    tarball = tmp_path / "build" / "ocpvirt-portworx-{0}.tar.gz".format(version())
    assert tarball.is_file()
    return tarball


def test_the_definition_installs_this_collections_tarball_and_kubernetes_core():
    with open(os.path.join(REPO_ROOT, "execution-environment.yml"), encoding="utf-8") as handle:
        definition = yaml.safe_load(handle)
    assert definition["version"] == 3
    collections = definition["dependencies"]["galaxy"]["collections"]
    tarball = "ocpvirt-portworx-{0}.tar.gz".format(version())
    assert {"name": "collections/" + tarball, "type": "file"} in collections
    assert "kubernetes.core" in [c["name"] for c in collections]
    assert {"src": "build/" + tarball, "dest": "collections"} in definition["additional_build_files"]


def test_ansible_builder_create_writes_the_build_context(tmp_path):
    build_tarball(tmp_path)
    shutil.copy(os.path.join(REPO_ROOT, "execution-environment.yml"), str(tmp_path))
    context = tmp_path / "context"
    completed = subprocess.run(BUILDER + ["create", "-f", str(tmp_path / "execution-environment.yml"), "-c", str(context),
                                         "--output-filename", "Containerfile"],
                               capture_output=True, text=True, cwd=str(tmp_path))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collections" / "ocpvirt-portworx-{0}.tar.gz".format(version())).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [c["name"] for c in requirements["collections"]] == ["collections/ocpvirt-portworx-{0}.tar.gz".format(version()),
                                                                "kubernetes.core"]


def test_ansible_builder_introspect_reads_the_collections_requirements(tmp_path):
    tarball = build_tarball(tmp_path)
    collections = tmp_path / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(collections), str(tarball)],
                   check=True, capture_output=True, cwd=str(tmp_path))
    completed = subprocess.run(BUILDER + ["introspect", str(collections)], capture_output=True, text=True, cwd=str(tmp_path))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    found = yaml.safe_load(completed.stdout)
    python = " ".join(found["python"])
    assert "kubernetes>=24.2.0" in python and "jsonpatch" in python and "ocpvirt.portworx" in python
    assert any(entry.startswith("python3 [platform:rpm]") for entry in found["system"]), found["system"]
