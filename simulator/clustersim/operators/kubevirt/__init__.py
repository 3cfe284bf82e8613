"""KubeVirt: VMs get VMIs and virt-launcher pods; live migration, eviction and volume hot-plug.

One controller per concern, found by each other through the cluster's registry:

* ``kubevirt-vmi`` (:mod:`.vmi_lifecycle`): VM → VMI → virt-launcher pod, VM status, placement.
* ``kubevirt-migration`` (:mod:`.migration`): ``VirtualMachineInstanceMigration`` admission and phases.
* ``kubevirt-eviction`` (:mod:`.eviction`): the launcher-pod eviction webhook and evacuation.
* ``kubevirt-hotplug`` (:mod:`.hotplug`): ``addvolume``/``removevolume`` and volume attachment.
* ``kubevirt-api`` (:mod:`.virt_api`): virt-api's start/stop/restart/migrate, pause/unpause,
  freeze/unfreeze and ``/version``.

The rules that decide are pure functions in :mod:`.model`, :mod:`.placement`,
:mod:`.run_strategy` and :func:`.eviction.eviction_verdict`.  Details and upstream sources: each module's docstring and
docs/simulator.md.
"""
from .eviction import Evacuation
from .hotplug import Hotplug
from .migration import Migration
from .model import quantity_bytes
from .virt_api import VirtApi
from .vmi_lifecycle import VmiLifecycle

CONTROLLERS = [VmiLifecycle, Migration, Evacuation, Hotplug, VirtApi]

__all__ = ["CONTROLLERS", "Evacuation", "Hotplug", "Migration", "VirtApi", "VmiLifecycle", "quantity_bytes"]
