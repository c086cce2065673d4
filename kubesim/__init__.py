"""kubesim - a Kubernetes API simulator for the real ``kubernetes`` client and kubectl.

Start one in-process for tests::

    import kubesim
    sim = kubesim.start_in_thread()          # free port, manual clock
    sim.write_kubeconfig(path)
    sim.advance(5)
    sim.stop()

or from the shell: ``python -m kubesim --port 6443 --kubeconfig .run/kubeconfig``.
See docs/kubesim.md.
"""

from .config import Config
from .handle import KubeSim, start_in_thread
from .kubeconfig import kubeconfig_dict, write_kubeconfig
from .scenarios import SCENARIOS

__all__ = ["Config", "KubeSim", "SCENARIOS", "kubeconfig_dict", "start_in_thread",
           "write_kubeconfig"]
