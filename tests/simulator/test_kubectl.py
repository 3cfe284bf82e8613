"""A real kubectl 1.33 against ``clustersim start``, with the kubeconfig exactly as it is written.

kubectl comes from ``make kubectl`` (``.venv/bin/kubectl``; ``$KUBECTL`` overrides).  Only what a
real OpenShift 4.20 cluster answers is asserted: kubectl's own output formats, exit codes and the
objects it leaves behind.  ``auth can-i`` is tested with RBAC in ``test_rbac.py``, ``rollout status``
in ``test_workloads.py``; what the simulator does not serve yet is listed in docs/simulator.md.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBECTL = os.environ.get("KUBECTL") or os.path.join(REPO_ROOT, ".venv", "bin", "kubectl")
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  key: "{value}"
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``python -m clustersim start --dir``, as ``make sim-start`` runs it; stopped afterwards."""
    if not os.access(KUBECTL, os.X_OK):
        pytest.fail(f"kubectl not found at {KUBECTL}: run `make kubectl`")
    directory = tmp_path_factory.mktemp("kubectl") / ".sim"
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, "simulator"))
    command = [sys.executable, "-m", "clustersim"]
    started = subprocess.run(command + ["start", "--dir", str(directory), "--workers", "2", "--vms", "1"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    try:
        yield directory
    finally:
        subprocess.run(command + ["stop", "--dir", str(directory)], env=env, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def kubectl(cluster):
    env = dict(os.environ, KUBECONFIG=str(cluster / "kubeconfig"), KUBECACHEDIR=str(cluster / "kube-cache"))
    env.pop("KUBECTL_EXTERNAL_DIFF", None)

    def run(*args, stdin=None, check=True, extra_env=None):
        completed = subprocess.run([KUBECTL, *args], env=dict(env, **(extra_env or {})), input=stdin,
                                   capture_output=True, text=True, timeout=60)
        if check:
            assert completed.returncode == 0, f"kubectl {' '.join(args)}: {completed.stderr}"
        return completed

    return run


def test_version_talks_tls_to_a_133_server(kubectl):
    versions = json.loads(kubectl("version", "-o", "json").stdout)
    assert versions["clientVersion"]["gitVersion"].startswith("v1.33.")
    assert versions["serverVersion"]["gitVersion"].startswith("v1.33.")


def test_get_nodes_by_name_and_label_selector(kubectl):
    names = kubectl("get", "nodes", "-o", "name").stdout.split()
    assert names == ["node/master-0", "node/master-1", "node/master-2", "node/worker-0", "node/worker-1"]
    workers = kubectl("get", "nodes", "-l", "node-role.kubernetes.io/worker",
                      "-o", "jsonpath={.items[*].metadata.name}").stdout
    assert workers.split() == ["worker-0", "worker-1"]


def test_get_pods_in_all_namespaces_as_json(kubectl):
    pods = json.loads(kubectl("get", "pods", "-A", "-o", "json").stdout)
    assert pods["kind"] == "List" and pods["apiVersion"] == "v1"
    launchers = [p for p in pods["items"] if p["metadata"]["labels"].get("kubevirt.io") == "virt-launcher"]
    assert len(launchers) == 1 and launchers[0]["metadata"]["namespace"] == "vms"


def test_get_of_a_missing_object_is_notfound(kubectl):
    missing = kubectl("get", "configmap", "absent", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "absent" not found'


def test_client_side_apply_creates_then_is_unchanged_then_configures(kubectl, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(CONFIGMAP.format(name="applied", value="1"))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "configmap/applied created"
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "configmap/applied unchanged"
    assert kubectl("diff", "-f", str(manifest)).returncode == 0  # no differences: exit 0
    manifest.write_text(CONFIGMAP.format(name="applied", value="2"))
    diff = kubectl("diff", "-f", str(manifest), check=False)
    assert diff.returncode == 1 and '-  key: "1"' in diff.stdout and '+  key: "2"' in diff.stdout
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == "configmap/applied configured"
    live = json.loads(kubectl("get", "configmap", "applied", "-o", "json").stdout)
    assert live["data"] == {"key": "2"}
    last_applied = json.loads(live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last_applied["data"] == {"key": "2"}


def test_server_side_apply(kubectl, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(CONFIGMAP.format(name="server-applied", value="a"))
    out = kubectl("apply", "--server-side", "-f", str(manifest)).stdout.strip()
    assert out == "configmap/server-applied serverside-applied"
    value = kubectl("get", "configmap", "server-applied", "-o", "jsonpath={.data.key}").stdout
    assert value == "a"


def test_typed_create_sends_protobuf_and_is_understood(kubectl):
    out = kubectl("create", "configmap", "typed", "--from-literal=a=1", "--from-literal=b=two").stdout
    assert out.strip() == "configmap/typed created"
    live = json.loads(kubectl("get", "configmap", "typed", "-o", "json").stdout)
    assert live["data"] == {"a": "1", "b": "two"}
    created = kubectl("create", "namespace", "typed-ns").stdout
    assert created.strip() == "namespace/typed-ns created"


def test_create_from_standard_input_then_delete(kubectl):
    out = kubectl("create", "-f", "-", stdin=CONFIGMAP.format(name="from-stdin", value="x")).stdout
    assert out.strip() == "configmap/from-stdin created"
    assert kubectl("delete", "configmap", "from-stdin", "--cascade=foreground").stdout.strip() == \
        'configmap "from-stdin" deleted'
    assert kubectl("get", "configmap", "from-stdin", check=False).returncode == 1


def test_edit_through_an_editor(kubectl, tmp_path):
    kubectl("create", "configmap", "edited", "--from-literal=key=before")
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\n"
                      "path = sys.argv[1]\n"
                      "text = open(path).read().replace('key: before', 'key: after')\n"
                      "open(path, 'w').write(text)\n")
    out = kubectl("edit", "configmap", "edited", extra_env={"KUBE_EDITOR": f"{sys.executable} {editor}"}).stdout
    assert out.strip() == "configmap/edited edited"
    assert kubectl("get", "configmap", "edited", "-o", "jsonpath={.data.key}").stdout == "after"


def test_auth_whoami_is_kube_admin(kubectl):
    assert kubectl("auth", "whoami").stdout.splitlines() == [
        "ATTRIBUTE                                  VALUE",
        "Username                                   kube:admin",
        "Groups                                     [system:cluster-admins system:authenticated]",
        "Extra: scopes.authorization.openshift.io   [user:full]",
    ]


def test_create_token_for_a_service_account_and_use_it(kubectl):
    kubectl("create", "serviceaccount", "deployer-bot", "-n", "default")
    token = kubectl("create", "token", "deployer-bot", "-n", "default", "--duration", "20m").stdout.strip()
    assert token.count(".") == 2
    review = json.loads(kubectl("--token", token, "auth", "whoami", "-o", "json").stdout)
    user = review["status"]["userInfo"]
    assert user["username"] == "system:serviceaccount:default:deployer-bot"
    assert user["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
    assert kubectl("--token", "not-a-token", "get", "nodes", check=False).returncode == 1


def test_cordon_wait_uncordon(kubectl):
    assert kubectl("cordon", "worker-1").stdout.strip() == "node/worker-1 cordoned"
    assert kubectl("get", "node", "worker-1", "-o", "jsonpath={.spec.unschedulable}").stdout == "true"
    out = kubectl("wait", "--for=condition=Ready", "node/worker-1", "--timeout=10s").stdout
    assert out.strip() == "node/worker-1 condition met"
    assert kubectl("uncordon", "worker-1").stdout.strip() == "node/worker-1 uncordoned"


def test_kubeconfig_is_what_oc_login_would_write(cluster):
    config = yaml.safe_load((cluster / "kubeconfig").read_text())
    assert config["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    assert "certificate-authority-data" in config["clusters"][0]["cluster"]
    assert "insecure-skip-tls-verify" not in config["clusters"][0]["cluster"]
    assert config["users"][0]["user"]["token"].startswith("sha256~")


def test_admin_context_is_the_installers_client_certificate(kubectl):
    """``--context admin``: the installer's ``auth/kubeconfig`` identity, over mutual TLS."""
    rows = [line.split(None, 1) for line in kubectl("--context", "admin", "auth", "whoami").stdout.splitlines()]
    assert rows[1:3] == [["Username", "system:admin"], ["Groups", "[system:masters system:authenticated]"]]
    assert rows[3][0] == "Extra:" and rows[3][1].split() == [
        "authentication.kubernetes.io/credential-id", rows[3][1].split()[1]]
    assert rows[3][1].split()[1].startswith("[X509SHA256=")
    assert kubectl("--context", "admin", "get", "nodes", "-o", "name").stdout.count("node/") == 5
    assert kubectl("--context", "admin", "auth", "can-i", "delete", "nodes").stdout == "yes\n"
    assert kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").stdout == "kube:admin"


def test_admin_context_impersonates(kubectl):
    out = kubectl("--context", "admin", "--as", "system:serviceaccount:default:default", "--as-group", "devs",
                  "auth", "whoami").stdout.splitlines()
    assert out[1:] == ["Username    system:serviceaccount:default:default", "Groups      [devs system:authenticated]"]
    refused = kubectl("--context", "admin", "--as", "bob", "get", "nodes", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ('Error from server (Forbidden): nodes is forbidden: User "bob" cannot list '
                                      'resource "nodes" in API group "" at the cluster scope')


def columns(output):
    """The header words of kubectl's table output (multi-word headers split on two spaces)."""
    import re

    return re.split(r"\s{2,}", output.splitlines()[0].strip())


def test_get_crd_lists_the_operators_definitions(kubectl):
    out = kubectl("get", "crd").stdout
    assert columns(out) == ["NAME", "CREATED AT"]
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert "virtualmachines.kubevirt.io" in names and "hyperconvergeds.hco.kubevirt.io" in names
    established = kubectl("wait", "--for=condition=Established", "crd/datavolumes.cdi.kubevirt.io", "--timeout=10s")
    assert established.stdout.strip() == "customresourcedefinition.apiextensions.k8s.io/datavolumes.cdi.kubevirt.io condition met"


def test_get_vm_shows_kubevirts_printer_columns(kubectl):
    out = kubectl("get", "vm", "-n", "vms").stdout
    assert columns(out) == ["NAME", "AGE", "STATUS", "READY"]
    row = out.splitlines()[1].split()
    assert row[0] == "vm-000" and row[2:] == ["Running", "True"]


def test_get_nodes_and_pods_wide(kubectl):
    assert columns(kubectl("get", "nodes").stdout) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    wide = kubectl("get", "pods", "-n", "vms", "-o", "wide").stdout
    assert columns(wide) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                             "READINESS GATES"]
    assert wide.splitlines()[1].split()[-3:] == ["worker-0", "<none>", "<none>"]
    pvc = kubectl("get", "pvc", "-n", "vms").stdout
    assert columns(pvc) == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
                            "VOLUMEATTRIBUTESCLASS", "AGE"]


def test_explain_reads_the_openapi_v3_schemas(kubectl):
    out = kubectl("explain", "virtualmachine.spec.runStrategy").stdout
    assert "KIND:       VirtualMachine" in out and "FIELD: runStrategy <string>" in out
    pod = kubectl("explain", "pod.spec").stdout
    assert "containers\t<[]Object> -required-" in pod


def test_schema_validation_refuses_a_number_as_run_strategy(kubectl):
    manifest = ("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: typed, namespace: vms}\n"
                "spec:\n  runStrategy: 5\n  template: {spec: {domain: {devices: {}}}}\n")
    refused = kubectl("apply", "-f", "-", stdin=manifest, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ('The VirtualMachine "typed" is invalid: spec.runStrategy: Invalid value: '
                                      '"integer": spec.runStrategy in body must be of type string: "integer"')


def test_top_nodes_from_metrics_k8s_io(kubectl):
    out = kubectl("top", "nodes").stdout
    assert columns(out) == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["master-0", "master-1", "master-2", "worker-0",
                                                                  "worker-1"]


def test_logs_of_a_launcher_pod(kubectl):
    pod = kubectl("get", "pods", "-n", "vms", "-o", "jsonpath={.items[0].metadata.name}").stdout
    assert kubectl("logs", "-n", "vms", pod).stdout.splitlines()[0] == "clustersim: container compute started"
    missing = kubectl("logs", "-n", "vms", pod, "-c", "nope", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: container nope is not valid for pod {pod}"


def test_node_leases(kubectl):
    out = kubectl("get", "leases", "-n", "kube-node-lease").stdout
    assert columns(out) == ["NAME", "HOLDER", "AGE"]
    assert [line.split()[:2] for line in out.splitlines()[1:]][-1] == ["worker-1", "worker-1"]
