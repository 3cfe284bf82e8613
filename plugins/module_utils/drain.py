# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draining a node without the Node Maintenance Operator, the way ``kubectl drain`` does.

Which pods to evict (not DaemonSet pods, not mirror pods, not finished pods), which VMIs to hand
to KubeVirt as VirtualMachineInstanceMigrations instead, which to leave to an external controller
(``evictionStrategy: External``), when the node counts as drained, and how to describe what is
still pending. Pure logic; the module does the calls.

After a live migration KubeVirt leaves the source virt-launcher pod on the node in phase
Succeeded; a finished pod holds no resources and blocks no maintenance, so it is neither evicted
nor waited for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import KUBEVIRT_API

MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
LAUNCHER_LABEL = "kubevirt.io"
LAUNCHER_VALUE = "virt-launcher"
CREATED_BY_LABEL = "kubevirt.io/created-by"
MIGRATION_FINAL_PHASES = ("Succeeded", "Failed")
POD_FINISHED_PHASES = ("Succeeded", "Failed")
MIGRATE = "migrate"
EXTERNAL_MOVE = "external"
MIGRATION_LABEL = "ocpvirt.portworx/maintenance-node"


def meta(obj, key):
    return ((obj or {}).get("metadata") or {}).get(key)


def is_daemonset_pod(pod):
    return any(ref.get("kind") == "DaemonSet" and ref.get("controller") for ref in meta(pod, "ownerReferences") or [])


def is_mirror_pod(pod):
    return MIRROR_POD_ANNOTATION in (meta(pod, "annotations") or {})


def is_launcher(pod):
    return (meta(pod, "labels") or {}).get(LAUNCHER_LABEL) == LAUNCHER_VALUE


def is_terminating(pod):
    return bool(meta(pod, "deletionTimestamp"))


def pods_on(pods, node_name):
    return [p for p in pods if (p.get("spec") or {}).get("nodeName") == node_name]


def is_finished(pod):
    return ((pod or {}).get("status") or {}).get("phase") in POD_FINISHED_PHASES


def evictable_pods(pods, node_name):
    """Pods a drain has to remove from the node: everything but DaemonSet, mirror and finished pods."""
    return [p for p in pods_on(pods, node_name) if not is_daemonset_pod(p) and not is_mirror_pod(p) and not is_finished(p)]


def pod_key(pod):
    return "{0}/{1}".format(meta(pod, "namespace"), meta(pod, "name"))


def active_migrations(migrations):
    """VMI ``namespace/name`` -> migration name, for migrations still in progress."""
    active = {}
    for migration in migrations:
        phase = (migration.get("status") or {}).get("phase")
        if phase in MIGRATION_FINAL_PHASES or meta(migration, "deletionTimestamp"):
            continue
        vmi = (migration.get("spec") or {}).get("vmiName")
        active["{0}/{1}".format(meta(migration, "namespace"), vmi)] = meta(migration, "name")
    return active


def failed_migrations(migrations, node_name, created=None):
    """VMI ``namespace/name`` -> names of the Failed migrations this collection created for ``node_name``, oldest first.

    With ``created`` (names), only those count: a re-run gets its own attempts.
    """
    failed = {}
    ours = [m for m in migrations if (meta(m, "labels") or {}).get(MIGRATION_LABEL) == node_name
            and (m.get("status") or {}).get("phase") == "Failed" and (created is None or meta(m, "name") in created)]
    for migration in sorted(ours, key=lambda m: (meta(m, "creationTimestamp") or "", meta(m, "name"))):
        key = "{0}/{1}".format(meta(migration, "namespace"), (migration.get("spec") or {}).get("vmiName"))
        failed.setdefault(key, []).append(meta(migration, "name"))
    return failed


def failure_reason(migration, vmi):
    """Why a migration failed: its own ``status.migrationState.failureReason``, else the VMI's."""
    for obj in (migration, vmi):
        reason = (((obj or {}).get("status") or {}).get("migrationState") or {}).get("failureReason")
        if reason:
            return reason
    return "no failureReason reported"


def migration_manifest(vmi_name, namespace, node_name):
    """A VirtualMachineInstanceMigration for one VMI; generateName keeps retries after a failure possible."""
    return {
        "apiVersion": KUBEVIRT_API,
        "kind": "VirtualMachineInstanceMigration",
        "metadata": {
            "generateName": "{0}-maintenance-".format(vmi_name),
            "namespace": namespace,
            "labels": {MIGRATION_LABEL: node_name},
        },
        "spec": {"vmiName": vmi_name},
    }


class DrainStep(object):
    """What one pass of the drain loop should do next."""

    def __init__(self, migrate, evict, waiting, exhausted=None):
        self.migrate = migrate  # VMIs (dicts) that need a migration created
        self.evict = evict  # pods (dicts) to evict now (for External VMIs: to signal the evacuation)
        self.waiting = waiting  # {pod or VMI key: why we are waiting}
        self.exhausted = exhausted or {}  # {VMI key: name of its last Failed migration}, attempts used up

    @property
    def done(self):
        return not self.migrate and not self.evict and not self.waiting


def next_drain_step(node_name, vmis, pods, migrations, outcomes, max_attempts=None, created=None):
    """Plan one pass: migrate migratable VMIs, evict the other pods, wait for what is in flight.

    ``outcomes`` maps VMI ``namespace/name`` to the eviction outcome from the preflight
    (``migrate``, ``external``, ``shut down`` or ``block``). Launcher pods of VMIs that migrate are
    left alone: KubeVirt removes them when the migration completes. A VMI with the External
    strategy gets no migration from us: its launcher pod is evicted once, which KubeVirt refuses
    while it sets ``status.evacuationNodeName`` for the external controller, and then it is waited for.
    A VMI gets a new migration only when none is in progress, and none once ``max_attempts`` of
    ours have Failed (it is then ``exhausted``): a migration that always fails is not retried forever.
    """
    active = active_migrations(migrations)
    failed = failed_migrations(migrations, node_name, created)
    migrate, evict, waiting, exhausted = [], [], {}, {}
    skip_launchers = set()
    for vmi in vmis:
        status = vmi.get("status") or {}
        if status.get("nodeName") != node_name:
            continue
        key = "{0}/{1}".format(meta(vmi, "namespace"), meta(vmi, "name"))
        outcome = outcomes.get(key)
        if outcome == EXTERNAL_MOVE:
            if status.get("evacuationNodeName") == node_name:
                skip_launchers.add(meta(vmi, "uid"))
                waiting["VMI " + key] = "evictionStrategy External: waiting for the external controller to move it " \
                                        "(status.evacuationNodeName={0})".format(node_name)
            else:
                waiting["VMI " + key] = "evictionStrategy External: waiting for KubeVirt to hand it to the external controller"
            continue
        if outcome != MIGRATE:
            continue
        skip_launchers.add(meta(vmi, "uid"))
        if key in active:
            waiting["VMI " + key] = "migration {0} in progress".format(active[key])
        elif max_attempts is not None and len(failed.get(key, [])) >= max_attempts:
            exhausted[key] = failed[key][-1]
        else:
            migrate.append(vmi)
    for pod in evictable_pods(pods, node_name):
        key = pod_key(pod)
        created_by = (meta(pod, "labels") or {}).get(CREATED_BY_LABEL)
        if is_launcher(pod) and created_by in skip_launchers:
            continue
        if is_terminating(pod):
            waiting["pod " + key] = "terminating"
        else:
            evict.append(pod)
    return DrainStep(migrate, evict, waiting, exhausted)


def describe_pending(step, blocked):
    """One line for a timeout message: what is left and why."""
    parts = ["{0} ({1})".format(key, why) for key, why in sorted(step.waiting.items())]
    parts.extend("pod {0} ({1})".format(key, why) for key, why in sorted(blocked.items()))
    parts.extend("VMI {0} (migration {1} Failed, attempts used up)".format(key, name) for key, name in sorted(step.exhausted.items()))
    parts.extend("VMI {0}/{1} (new migration created)".format(meta(v, "namespace"), meta(v, "name")) for v in step.migrate)
    return "; ".join(parts) or "nothing"
