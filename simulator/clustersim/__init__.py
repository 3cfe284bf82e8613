"""clustersim — a local Kubernetes/OpenShift API server simulating OpenShift Virtualization + Portworx.

Run it: ``PYTHONPATH=simulator python -m clustersim serve --port 0 --kubeconfig /tmp/kc``
(see ``cli.py``), or from tests with ``clustersim.testing.Simulator``.

Plug-in contract for simulated operators (stable)
================================================
Put a module in ``clustersim/operators/`` listing its controller classes in ``CONTROLLERS``
(subclasses of :class:`clustersim.controller.Controller`, which declare their watches, admission
hooks, subresources and routes).  It is imported automatically; each controller is registered
under its ``name`` and reaches the others with ``cluster.controller(name)``.  ``self.cluster``
is a :class:`clustersim.cluster.Cluster`:

Resource keys
    ``"<plural>"`` for the core group (``"pods"``, ``"persistentvolumeclaims"``) and
    ``"<group>/<plural>"`` otherwise (``"kubevirt.io/virtualmachines"``,
    ``"storage.k8s.io/storageclasses"``).  No version: each group/resource has one served version.

Store — ``cluster.store`` (objects are plain dicts; cluster-scoped objects take ``namespace=None``)
    ``get(key, name, namespace=None) -> dict | None`` (a copy)   ``must_get(...)`` raises 404
    ``peek(key, name, namespace=None)`` stored dict, read-only, no copy
    ``list(key, namespace=None, label_selector=None, field_selector=None, copy=True) -> [dict]``
    ``create(key, obj, namespace=None, *, dry_run=False, internal=True)``  (internal creates keep status)
    ``update(key, obj, namespace=None, *, dry_run=False, internal=True, subresource="")``
    ``update_status(key, obj, namespace=None)``   ``patch_status(key, name, status_patch, namespace=None)``
    ``patch(key, name, patch, namespace=None, *, patch_type="merge"|"json"|"strategic", ...)``
    ``delete(key, name, namespace=None, *, propagation=None, preconditions=None, dry_run=False)``
    ``mutate(key, name, fn, namespace=None)`` read-modify-write of spec+metadata+status, one commit
    ``apply(key, obj, namespace=None)`` create-or-replace including status
    ``remove_finalizer(key, name, finalizer, namespace=None)``
    ``create_owned(key, obj, namespace=None)`` bulk-seeding create without copies (returns stored dict)
    ``add_tally(key, name, fn)`` / ``tally(key, name) -> {group: total}`` running sums kept inside
    every commit (``fn(stored_obj)`` yields ``(group, amount)`` pairs; cheap, pure, never raises)
    ``last_change(key)`` resourceVersion of the last commit to ``key`` (cache validity check)
    Semantics: uid, one global resourceVersion, generation bump on spec change, status kept apart
    (main-resource writes ignore status for kinds with a status subresource), finalizers →
    deletionTimestamp, ownerReferences garbage collection by the garbage collector controller
    (``propagation`` "Background" default, "Foreground", "Orphan"), no-op writes not committed,
    watch events.  Controller writes are not in the request log.  Layers: ``store.py``.

Extension points on ``cluster``
    ``on_change(key, fn)``                 ``fn(event_type, new, old)`` after each committed change
                                           (ADDED/MODIFIED/DELETED; on DELETED new is None).  ``"*"`` = all.
    ``add_admission(key, fn, mutating=False)``  ``fn(AdmissionRequest)``; raise ``ApiError`` to reject.
                                           Runs for HTTP and controller writes, dry-run included.
    ``add_subresource(key, name, fn, kind="", verbs=("create",), group="", version="")``
                                           ``fn(SubresourceRequest) -> HttpResponse | (code, body) | dict``
                                           e.g. ``("kubevirt.io/virtualmachines", "addvolume")`` serves
                                           ``/apis/subresources.kubevirt.io/v1/.../virtualmachines/{name}/addvolume``.
    ``add_eviction_hook(fn)``              ``fn(cluster, pod, eviction, dry_run)`` before the PDB check of
                                           ``pods/eviction``: raise ApiError (e.g. 429) / return True (handled).
    ``after(seconds, fn, *args, background=False) -> Task``  run later on the controller thread.
    ``duration(name, default)``            configured simulated delay in seconds (``--durations``).
    ``add_route(method, path_prefix, fn)`` non-Kubernetes endpoint, ``fn(HttpRequest) -> HttpResponse | (code, body)``.
    ``faults.take(name, target) -> dict | None``  consume an armed operator fault ("migration-fail", "ns/vm").
    ``kinds.extend_schema(key, schema)``   declare more fields kept by pruning (shorthand of ``schema.py``;
                                           upstream fields are already kept, see ``clustersim/schemas``).
    ``on_reset(fn)``                       drop private operator state on ``POST /_sim/reset``.
    ``lock``                               the RLock guarding the store; callbacks already hold it.
    ``settle(timeout)``                    wait until no controller work is pending.

Errors: ``clustersim.errors`` (``ApiError``, ``not_found``, ``already_exists``, ``conflict``,
``invalid`` + ``FieldCause``/``forbidden_field``/``invalid_field``/``required_field``, ``forbidden``,
``too_many_requests``, ``gone``, ``bad_request``, ``internal_error``, ``service_unavailable``).
Helpers: ``clustersim.util`` (``clone``, ``dig``, ``set_condition``, ``now_rfc3339``),
``clustersim.quantity`` (``parse_quantity``, ``format_bytes``).
"""
from .cluster import Cluster, HttpRequest, HttpResponse, SubresourceRequest, build_cluster
from .config import Config
from .errors import ApiError, FieldCause

__all__ = ["ApiError", "Cluster", "Config", "FieldCause", "HttpRequest", "HttpResponse", "SubresourceRequest",
           "build_cluster"]
