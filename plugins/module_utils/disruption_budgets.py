# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pods a PodDisruptionBudget protects, and which of them an eviction cannot take now.

The eviction API refuses (429) to evict a pod while a PodDisruptionBudget that selects it allows
no disruption (``status.disruptionsAllowed`` 0, kept by kube-controller-manager's disruption
controller), so a drain waits on it, possibly forever. A
budget selects the pods of its namespace that match ``spec.selector`` (policy/v1: an empty
selector selects every pod of the namespace, a missing one none).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _labels(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def _requirement_holds(labels, requirement):
    key, operator, values = requirement.get("key"), requirement.get("operator"), requirement.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def selects(selector, labels):
    """Whether a metav1 LabelSelector matches ``labels``; None selects nothing, {} everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_requirement_holds(labels, requirement) for requirement in selector.get("matchExpressions") or [])


def blocking_budgets(pod, budgets):
    """Names of the budgets in the pod's namespace that select it and allow no disruption now."""
    namespace = (pod.get("metadata") or {}).get("namespace")
    names = []
    for budget in budgets:
        metadata = budget.get("metadata") or {}
        if metadata.get("namespace") != namespace:
            continue
        if not selects((budget.get("spec") or {}).get("selector"), _labels(pod)):
            continue
        status = budget.get("status") or {}
        # The disruption controller fills the status; until it has, nothing is known about the budget.
        if "disruptionsAllowed" in status and int(status["disruptionsAllowed"] or 0) <= 0:
            names.append(metadata.get("name"))
    return sorted(names)
