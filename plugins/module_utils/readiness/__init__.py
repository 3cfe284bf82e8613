# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness audit: gather once, evaluate pure rules, score, render reports.

``gather`` reads the cluster (paginated, read-only); ``rules_*`` and ``vm_rules`` turn the facts
into findings; ``capacity`` sizes; ``scoring`` groups findings into checks and scores them;
``render_*`` write Markdown, HTML and JUnit XML. Only ``gather`` talks to the cluster.
"""
