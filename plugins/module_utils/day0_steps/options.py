# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A step's options validated as its module validates them: the argument spec, then the option rules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import check_options
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import WAIT_ARG_SPEC, WAIT_OPTION_RULES


def validated(argument_spec, option_rules, options, subject, wait=True):
    """The module's parameters for ``options`` (defaults filled in); raises Doubt or Refusal when invalid."""
    spec = dict(WAIT_ARG_SPEC, **argument_spec) if wait else dict(argument_spec)
    result = ArgumentSpecValidator(spec).validate(dict(options or {}))
    if result.error_messages:
        raise Doubt("the options do not validate: " + "; ".join(result.error_messages))
    params = result.validated_parameters
    check_options(params, tuple(option_rules) + (WAIT_OPTION_RULES if wait else ()), subject)
    return params
