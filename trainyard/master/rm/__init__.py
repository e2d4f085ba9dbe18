"""Resource managers: how an allocation becomes processes. `local` runs them on this machine."""

from trainyard.master.rm.local import LaunchSpec, LocalResourceManager, kill_process_group

__all__ = ["LaunchSpec", "LocalResourceManager", "kill_process_group"]
