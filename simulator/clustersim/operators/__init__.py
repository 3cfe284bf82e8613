"""Simulated operators, discovered automatically.

Every module in this package is imported at start-up (``core`` first, then alphabetical).  A
module takes part by listing its controller classes in ``CONTROLLERS`` (subclasses of
:class:`clustersim.controller.Controller`); each is built with the cluster, registered under its
``name`` and installed, in the listed order.

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
            controllers = getattr(module, "CONTROLLERS", None)
            if controllers is None:
                continue
            install_controllers(cluster, controllers)
            cluster.operators.append(name)
        except Exception:
            text = f"operator {name} failed to load:\n{traceback.format_exc()}"
            cluster.operator_errors.append(text)
            print(text, file=sys.stderr, flush=True)
            if strict:
                raise


def install_controllers(cluster: "Cluster", classes: "List[type]") -> None:
    """Build, register and install each controller class (the module's ``CONTROLLERS``)."""
    built = [cls(cluster) for cls in classes]
    for controller in built:
        cluster.register_controller(controller)
    for controller in built:
        controller.install()
