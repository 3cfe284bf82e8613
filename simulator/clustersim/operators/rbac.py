"""The ClusterRole aggregation controller of kube-controller-manager.

kubernetes/kubernetes release-1.33 ``pkg/controller/clusterroleaggregation/
clusterroleaggregation_controller.go``: a ClusterRole with an ``aggregationRule`` gets as its
``rules`` every distinct rule of the ClusterRoles its ``clusterRoleSelectors`` select (selector by
selector, selected roles in name order, itself skipped).  Any ClusterRole change re-syncs every
aggregated role, so labelling a role ``rbac.authorization.k8s.io/aggregate-to-view: "true"``
extends ``view`` (and through it ``edit`` and ``admin``), and removing the label or the role
shrinks them again.  The rule computation is ``authz.aggregated_rules``; the bootstrap roles are
seeded already aggregated (``seed_rbac.py``), so a simulator started without this operator still
has full ``admin``/``edit``/``view`` roles, they just stop following changes.

Writes are internal (the controller's own identity is never authorized, as every controller write
in the simulator).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..authz import RBAC_GROUP, aggregated_rules, normalized_rule
from ..controller import Controller, watches

CLUSTER_ROLES = f"{RBAC_GROUP}/clusterroles"


class ClusterRoleAggregation(Controller):
    """Keeps each aggregated ClusterRole's rules equal to what its selectors select."""

    name = "clusterrole-aggregation"

    @watches(CLUSTER_ROLES)
    def on_cluster_role(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.sync_all()

    def sync_all(self) -> None:
        """Re-aggregate every aggregated role; a role whose rules change triggers another pass
        through its own watch event (``view`` → ``edit`` → ``admin``)."""
        roles = self.store.list(CLUSTER_ROLES, copy=False)
        for role in roles:
            rules = aggregated_rules(role, roles)
            if rules is None or rules == [normalized_rule(r) for r in role.get("rules") or []]:
                continue
            self.store.mutate(CLUSTER_ROLES, role["metadata"]["name"], lambda obj, rules=rules: _set_rules(obj, rules))


def _set_rules(obj: Dict[str, Any], rules: Any) -> bool:
    if obj.get("rules") == rules:
        return False
    obj["rules"] = rules
    return True


CONTROLLERS = [ClusterRoleAggregation]
