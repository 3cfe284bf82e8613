# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which day-0 steps are already converged, judged in the preflight's one module process.

A step is converged when the module of that step, given the same options on the objects read now,
would plan no write and find every condition it waits for already met, without a warning. Each
step's judge calls the planners the module itself calls (in ``module_utils``). The safety rule
is "any doubt runs the module": options that fail validation, an object that cannot be read, an
API that is not served, a refusal, a warning, an unmet wait condition or any error in the judge
make the step not converged, and so does every step after one that is not converged (it may
change what the later steps read). A role skips its module only for a converged verdict on
exactly the options it would pass (see the day-0 roles), and only once: every verdict of one
judgement carries the judgement's id, and a role does not use an id it has used before (by then the
cluster may have changed, for example by the role's own run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback
import uuid

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure


def converged(options, result, reason="no write planned and every wait condition met"):
    return {"converged": True, "reason": reason, "options": options, "result": result}


def not_converged(options, reason):
    return {"converged": False, "reason": reason, "options": options, "result": {}}


class Doubt(Exception):
    """Something the module would act on, warn about or wait for: the step is not converged."""


def judge_steps(cluster, steps, judges):
    """``{step: verdict}`` for the ``steps`` (``{step: options}``) in the order of ``judges`` (``[(step, judge)]``).

    A judge is ``judge(cluster, options, context) -> result``; it raises :class:`Doubt` (or any
    error) when the step is not converged, and may leave facts for later steps in ``context``.
    Every verdict carries ``judgement``, an id of this call that no other call gives.
    """
    judgement = uuid.uuid4().hex
    return dict((step, dict(verdict, judgement=judgement)) for step, verdict in _verdicts(cluster, steps, judges).items())


def _verdicts(cluster, steps, judges):
    """The verdicts of :func:`judge_steps`, without the judgement id."""
    verdicts, context, blocking = {}, {}, None
    for step, judge in judges:
        if step not in steps:
            continue
        options = steps[step]
        if blocking is not None:
            verdicts[step] = not_converged(options, "step {0} comes first and is not converged".format(blocking))
            continue
        try:
            verdicts[step] = converged(options, judge(cluster, options, context))
        except (Doubt, ModuleFailure) as doubt:
            verdicts[step] = not_converged(options, str(getattr(doubt, "msg", None) or doubt))
        except Exception:  # noqa: B902 - any error in a judge means: run the module
            verdicts[step] = not_converged(options, "could not be judged: " + traceback.format_exc(limit=1).strip().splitlines()[-1])
        if not verdicts[step]["converged"]:
            blocking = step
    unknown = sorted(set(steps) - set(step for step, dummy in judges))
    for step in unknown:
        verdicts[step] = not_converged(steps[step], "no judge for this step")
    return verdicts


def doubt_if(warnings):
    """A warning the module would give makes the step not converged (the module gives it)."""
    if warnings:
        raise Doubt("the module would warn: " + "; ".join(warnings))


def wait_met(probe_result, what):
    """The ``(done, state)`` of a module's wait probe, asked once: not done is a doubt."""
    done, state = probe_result
    if not done:
        raise Doubt("{0} not yet: {1}".format(what, state))
    return state
