# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doubling backoff that both polling (``waiting.py``) and retrying (``retry.py``) pause by."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def doubling(first, longest):
    """``first``, then twice the previous value, each capped at ``longest``; endless (callers
    take as many as they need)."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, longest)
