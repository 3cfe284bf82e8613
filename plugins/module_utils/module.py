# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base every module of this collection builds on.

A module subclasses :class:`OcpVirtModule`, declares its ``argument_spec`` (plus constraints such
as ``mutually_exclusive``) and implements ``execute_module``, which gathers facts, asks a pure
planner in ``module_utils`` what to do, applies it through ``self.cluster`` and waits. Failures are
raised as :class:`ModuleFailure` (or its ``Refusal``/``WaitTimeout``/``ApiFailure`` kinds) and end
the task with a one-line ``msg`` plus ``status`` and ``reason``; no expected error prints a
traceback. Results and diffs pass through ``secrets.redact`` on the way out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import traceback

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.ocpvirt.portworx.plugins.module_utils.controller_watch import ControllerWatch
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.secrets import redact
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import check_options, count
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import Waiter

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

    HAS_KUBERNETES_COLLECTION = True
    KUBERNETES_COLLECTION_ERROR = None
except ImportError:
    HAS_KUBERNETES_COLLECTION = False
    KUBERNETES_COLLECTION_ERROR = traceback.format_exc()
    AUTH_ARG_SPEC = {}

    class AnsibleK8SModule(object):
        """Stand-in that lets the module start just far enough to say what is missing."""

        def __init__(self, **kwargs):
            from ansible.module_utils.basic import AnsibleModule

            AnsibleModule(**kwargs).fail_json(msg="The kubernetes.core collection must be installed", exception=KUBERNETES_COLLECTION_ERROR)

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import ClusterClient

WAIT_ARG_SPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=300),
    wait_sleep=dict(type="float", default=2.0),
)


# Ansible's argument spec cannot bound numbers; a zero poll interval would hammer the API.
WAIT_OPTION_RULES = (
    ("wait_timeout", count(minimum=0)),
    ("wait_sleep", count(minimum=0, kind="float", above=True)),
)


def common_argument_spec(wait=True):
    """The auth options of kubernetes.core plus, by default, our wait options."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    if wait:
        spec.update(copy.deepcopy(WAIT_ARG_SPEC))
    return spec


class OcpVirtModule(AnsibleK8SModule):
    """A kubernetes.core ``AnsibleK8SModule`` with our client, result, diff and wait helpers."""

    #: Set to False in modules without wait options (e.g. info modules).
    has_wait_options = True
    #: ``(option path, check)`` pairs from ``validation``, applied before ``execute_module`` reads anything.
    option_rules = ()

    def __init__(self, argument_spec, **kwargs):
        spec = common_argument_spec(wait=self.has_wait_options)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super(OcpVirtModule, self).__init__(argument_spec=spec, **kwargs)
        self.result = {"changed": False}
        # Found now, while the worker is still the child of the ansible-playbook that ran it (see controller_watch).
        self.controller_watch = ControllerWatch.start()
        if self.has_wait_options:
            self._check_wait_options()
        self._before = None
        self._after = None
        self._cluster = None

    def _check_wait_options(self):
        try:
            check_options(self.params, WAIT_OPTION_RULES, "The wait options")
        except ModuleFailure as failure:
            self.fail_json(**failure.result())

    def option_subject(self):
        """How a refused option names the object the task is about; modules override it."""
        return "The task's options"

    def validate_options(self):
        """Refuse values the API would reject (or misread) before any request is sent."""
        check_options(self.params, self.option_rules, self.option_subject())

    # the cluster, built lazily so that argument errors never need a reachable API ------------
    @property
    def cluster(self):
        if self._cluster is None:
            try:
                k8s = get_api_client(module=self)
            except CoreException as exc:
                raise ModuleFailure(to_text(exc), reason="ClientConfig")
            self._cluster = ClusterClient(k8s, check_mode=self.check_mode, on_retry=self._note_retry, on_warning=self._note_api_warning)
        return self._cluster

    def _note_retry(self, exc, delay):
        retries = self.result.setdefault("retries", 0)
        self.result["retries"] = retries + 1
        self.debug("transient API error ({0}); retrying in {1:.1f}s".format(getattr(exc, "status", exc), delay))

    def _note_api_warning(self, text):
        # The apiserver's Warning headers (dropped fields, deprecated APIs) would otherwise be lost.
        self.warn("The API server warned: {0}".format(text))

    # results ---------------------------------------------------------------------------------
    def changed(self, flag=True):
        self.result["changed"] = self.result["changed"] or bool(flag)

    def set_diff(self, before, after):
        """Record what changed; shown with ``--diff``. Callers pass comparable dicts."""
        self._before, self._after = before, after

    @property
    def wait_enabled(self):
        """No waiting in check mode: nothing was written, so nothing can converge."""
        return bool(self.params.get("wait", True)) and not self.check_mode

    def waiter(self):
        """A Waiter that also stops, with ``Interrupted``, once the ansible-playbook that ran this module is gone."""
        timeout, sleep = self.params.get("wait_timeout"), self.params.get("wait_sleep")
        waiter = Waiter(
            timeout=WAIT_ARG_SPEC["wait_timeout"]["default"] if timeout is None else timeout,
            sleep=WAIT_ARG_SPEC["wait_sleep"]["default"] if sleep is None else sleep,
        )
        waiter.interrupted = self.controller_watch.gone
        return waiter

    # the one entry point ---------------------------------------------------------------------
    def execute_module(self):
        raise NotImplementedError

    def run(self):
        try:
            self.validate_options()
            self.execute_module()
        except ModuleFailure as failure:
            result = dict(self.result)
            result.update(failure.result())
            self._add_diff(result)
            self.fail_json(**redact(result))
        self._add_diff(self.result)
        self.exit_json(**redact(self.result))

    def _add_diff(self, result):
        if self._diff and (self._before is not None or self._after is not None):
            result["diff"] = {"before": self._before or {}, "after": self._after or {}}
