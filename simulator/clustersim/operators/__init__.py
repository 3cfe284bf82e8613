"""Simulated operators, discovered automatically.

Every module in this package is imported at start-up (``core`` first, then alphabetical).  A
module takes part by defining either

* ``setup(cluster)`` — a function called once with the :class:`clustersim.cluster.Cluster`, or
* ``OPERATOR`` — an object with a ``setup(cluster)`` method.

Nothing else needs registering: drop ``operators/<name>.py`` in and it runs.  Restrict the set
with ``--operators a,b`` / ``SIM_OPERATORS`` (``core`` always loads).  A module that fails to
import or set up is reported on ``GET /_sim/status`` (``operator_errors``) and on stderr, and
the others keep working; set ``SIM_STRICT_OPERATORS=1`` to make such a failure fatal.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback
from typing import TYPE_CHECKING, List

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster


def discover() -> List[str]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    if "core" in names:
        names.remove("core")
        names.insert(0, "core")
    return names


def load_operators(cluster: "Cluster") -> None:
    wanted = cluster.config.operators
    strict = os.environ.get("SIM_STRICT_OPERATORS") == "1"
    for name in discover():
        if wanted is not None and name != "core" and name not in wanted:
            continue
        try:
            module = importlib.import_module(f"{__name__}.{name}")
            setup = getattr(module, "setup", None)
            operator = getattr(module, "OPERATOR", None)
            if setup is None and operator is not None:
                setup = getattr(operator, "setup", None)
            if setup is None:
                continue
            setup(cluster)
            cluster.operators.append(name)
        except Exception:
            text = f"operator {name} failed to load:\n{traceback.format_exc()}"
            cluster.operator_errors.append(text)
            print(text, file=sys.stderr, flush=True)
            if strict:
                raise
