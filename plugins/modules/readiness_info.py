#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: readiness_info
short_description: Audit a cluster against the Portworx and OpenShift Virtualization documents
version_added: 0.2.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Reads the cluster once (paginated lists, one module process) and evaluates every rule of the collection's
    reference catalogue (R1-R24) and the documents' further checks, among them Portworx Enterprise 3.5.2 or later
    updating one node at a time, Stork and Autopilot, the OpenShift version and CSISnapshot capability, the Node
    Maintenance Operator, exactly one default virtualization and cluster class with RWX Block, boot sources imported,
    the StorageProfiles of the VM classes, one default VolumeSnapshotClass for C(pxd.portworx.com), the HyperConverged
    scratch and VM state classes and filesystem overhead, live migration limits, the image registry, hostPrefix and
    maxPods, the worker MachineConfigPool C(maxUnavailable), CPU vendors, the storage checkup's last result, every
    VirtualMachine and VM template (the fleet rules of M(ocpvirt.portworx.vm_policy_info)) and capacity (N-1 headroom,
    snapshot reserve, boot image raw capacity, usable space after filesystem overhead, Portworx pool usage and skew).
  - Each finding names its stable rule id, severity (critical, warning, info), the object, the rule, the fix and the
    source document and section. Scores (0-100) per area and overall weigh rules by severity.
  - Reads only; never changes anything, also not in check mode.
options:
  vm_namespaces:
    description:
      - Only read VMs, VMIs and claims in these namespaces. Default all namespaces.
      - Option values are checked before any request (namespace names, the ranges of the O(capacity) inputs, a
        quantity for O(capacity.boot_image_footprint), known ids in O(skip_rules)).
    type: list
    elements: str
  capacity:
    description:
      - Inputs of the sizing formulas.
    type: dict
    suboptions:
      snapshot_change_rate:
        description: Share of a disk that changes between two snapshots (0.1 is 10 percent), from 0 to 1.
        type: float
        default: 0.1
      snapshots_retained:
        description: Snapshots kept per disk.
        type: int
        default: 7
      boot_image_footprint:
        description: Size of the boot images (a quantity such as C(500Gi)); default the DataSources' PVCs.
        type: str
      pool_usage_limit_percent:
        description: Pool usage at which C(POOL-USAGE) reports a node, from 1 to 100.
        type: int
        default: 80
  skip_rules:
    description:
      - Rule ids not to evaluate (reported as skipped), for example C(STORAGE-CHECKUP).
    type: list
    elements: str
    default: []
  reports:
    description:
      - Rendered reports to return in RV(reports), for people and CI.
    type: list
    elements: str
    choices: [markdown, html, junit]
    default: []
  report_title:
    description: Title of the rendered reports.
    type: str
    default: Readiness audit
  cluster_name:
    description: Name of the cluster in the JUnit test suites and cases (for example the inventory host).
    type: str
    default: cluster
  fail_on:
    description:
      - Fail the task when a finding of this severity or worse exists; C(never) always succeeds.
    type: str
    choices: [critical, warning, never]
    default: never
  day0_steps:
    description:
      - Also judge, in this same process, which day-0 steps are already converged, keyed by step
        (C(storage_classes), C(storage_profiles), C(optional_objects), C(hyperconverged), C(image_registry)),
        each with the options the day-0 role passes to that step's module (for C(storage_profiles)
        C(profiles), the role's items, and C(wait_timeout)).
      - A step is converged when its module, given those options on the objects read now, would plan no write,
        refuse nothing, warn about nothing and find every condition it waits for met; the judgement calls the
        module's own planners. Any doubt (options that do not validate, an API not served, an object missing or
        unreadable, an unmet condition) and every step after a step that is not converged is not converged.
      - The day-0 roles skip the module of a step judged converged for exactly the options they would pass, each
        judgement once (C(judgement)); see RV(day0_steps).
    type: dict
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
notes:
  - PX-CSI is told from Portworx Enterprise by its image and operator bundle names; this was not checked against a
    PX-CSI installation.
"""

EXAMPLES = r"""
- name: Audit the cluster and keep a report
  ocpvirt.portworx.readiness_info:
    reports: [markdown, html, junit]
  register: audit

- name: Stop on critical findings
  ansible.builtin.assert:
    that: audit.summary.critical == 0
    fail_msg: "{{ audit.summary.rules_failed }}"
"""

RETURN = r"""
cluster:
  description: What runs (OpenShift and Portworx versions, nodes, VMs).
  returned: always
  type: dict
summary:
  description: Counts by severity, the failed rule ids, and the critical rules day 0 does not fix.
  returned: always
  type: dict
  sample: {"critical": 0, "warning": 2, "info": 1, "rules_evaluated": 52, "rules_failed": ["R7", "R8"],
           "fixable_findings": 1, "critical_not_fixed_by_day0": []}
scores:
  description: Score 0-100 per area (portworx, platform, storage, virtualization, vm_fleet, capacity) and overall.
  returned: always
  type: dict
checks:
  description: One entry per rule with status passed, failed or skipped.
  returned: always
  type: list
  elements: dict
findings:
  description: Every violation with rule, area, severity, title, object, detail, fix, source, fixable and day0.
  returned: always
  type: list
  elements: dict
capacity:
  description: N-1 headroom, storage sizing and Portworx pool usage.
  returned: always
  type: dict
unserved_apis:
  description: APIs the cluster does not serve (their rules are skipped or reported).
  returned: always
  type: list
  elements: str
reports:
  description: The rendered reports requested with O(reports), keyed by format.
  returned: when O(reports) is not empty
  type: dict
day0_steps:
  description:
    - One verdict per step of O(day0_steps) with C(converged) (bool), C(reason), C(options) (as given),
      C(result) (the results of the step's module a role uses, when converged) and C(judgement), an id of this
      judgement that no other run gives (a role uses the verdicts of one judgement once).
  returned: when O(day0_steps) is given
  type: dict
  sample: {"hyperconverged": {"converged": true, "reason": "no write planned and every wait condition met",
           "options": {"name": "kubevirt-hyperconverged"}, "result": {"changed": false, "observed": {}},
           "judgement": "5f0c2a9e8b7d4c1e9a3f6b2d8e4c7a10"}}
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.steps import DAY0_STEPS_RULES, judge_day0
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.audit import run_audit
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import RULES
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.gather import gather
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_html import render_html
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_junit import render_junit
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_markdown import render_markdown
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.scoring import fails
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import check_text, count, dns_label, quantity

RENDERERS = {"markdown": render_markdown, "html": render_html}

OPTION_RULES = (
    ("vm_namespaces[]", dns_label("Namespace")),
    ("capacity.snapshot_change_rate", count(minimum=0, maximum=1, kind="float")),
    ("capacity.snapshots_retained", count(minimum=0)),
    ("capacity.boot_image_footprint", quantity(example="500Gi")),
    ("capacity.pool_usage_limit_percent", count(minimum=1, maximum=100)),
    ("skip_rules[]", check_text(lambda rule: rule in RULES, "is not a rule id of the catalogue",
                                "Use the ids the audit reports, for example STORAGE-CHECKUP.")),
) + DAY0_STEPS_RULES


class ReadinessInfoModule(OcpVirtModule):
    has_wait_options = False
    option_rules = OPTION_RULES

    def option_subject(self):
        return "The readiness audit"

    def execute_module(self):
        facts = gather(self.cluster, vm_namespaces=self.params["vm_namespaces"])
        report = run_audit(facts, capacity_inputs=self.params["capacity"], skip_rules=self.params["skip_rules"])
        self.result.update(report)
        if self.params["reports"]:
            self.result["reports"] = self._render(report)
        if self.params["day0_steps"] is not None:
            self.result["day0_steps"] = judge_day0(self.cluster, self.params["day0_steps"])
        if fails(report["summary"], self.params["fail_on"]):
            raise ModuleFailure("Readiness audit found {0} critical and {1} warning findings (fail_on: {2}): rules {3}".format(
                report["summary"]["critical"], report["summary"]["warning"], self.params["fail_on"],
                ", ".join(report["summary"]["rules_failed"])), reason="AuditFailed")

    def _render(self, report):
        title = self.params["report_title"]
        rendered = {}
        for name in self.params["reports"]:
            rendered[name] = render_junit(report, self.params["cluster_name"]) if name == "junit" else RENDERERS[name](report, title)
        return rendered


def main():
    ReadinessInfoModule(
        argument_spec=dict(
            vm_namespaces=dict(type="list", elements="str"),
            capacity=dict(type="dict", options=dict(
                snapshot_change_rate=dict(type="float", default=0.1),
                snapshots_retained=dict(type="int", default=7),
                boot_image_footprint=dict(type="str"),
                pool_usage_limit_percent=dict(type="int", default=80),
            )),
            skip_rules=dict(type="list", elements="str", default=[]),
            reports=dict(type="list", elements="str", choices=["markdown", "html", "junit"], default=[]),
            report_title=dict(type="str", default="Readiness audit"),
            cluster_name=dict(type="str", default="cluster"),
            fail_on=dict(type="str", choices=["critical", "warning", "never"], default="never"),
            day0_steps=dict(type="dict"),
        )
    ).run()


if __name__ == "__main__":
    main()
