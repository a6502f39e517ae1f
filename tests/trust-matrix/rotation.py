"""A CA rotation in a running container: the container starts with the bundle of CA1, the
source then holds CA2's bundle and kubelet updates the volume as it does (a new timestamped
directory, `..data` swapped), and a new process of each client (`runc exec`) connects to a
server whose certificate CA2 issued. A client that does not trust it is measured again
after a restart of the container (a new container: kubelet binds each subPath anew)."""

from pathlib import Path

import kubelet
import runc

# Column, the trust-matrix column whose settings it rotates; the settings file decides.
COLUMNS = [
    ("directory mount and variables (`default.yaml`)", "`default.yaml`"),
    ("directory mount and variables (`language-env.yaml`)", "`language-env.yaml`"),
    ("`systemTrustStore` (`system-trust-store.yaml`)", "`system-trust-store.yaml`"),
    ("`javaTrustStore.cacerts` (`java-cacerts.yaml`)", "`java-cacerts.yaml`"),
]
KEPT, RESTART = "yes", "after a restart"


def measure(pod, container, plan, staging: Path, rotated_cluster, runtimes, before, url, cell, timeout):
    """{runtime name: cell} for one settings column. before: {name: cell} of the matrix's same
    column (a client that did not trust CA1 is not reached by the settings: 'no')."""
    reached = [r for r in runtimes if before[r.name] == "yes"]
    cells = {r.name: before[r.name] for r in runtimes if r not in reached}
    with runc.Root(staging) as root:
        with runc.Container(root, plan) as running:
            new_plan = kubelet.realize(pod, container, rotated_cluster, staging / "volumes")  # the rotation
            after = {r.name: cell(running.exec(r.argv + [url], timeout)) for r in reached}
        restarted = [r for r in reached if after[r.name] != "yes"]
        if restarted:
            with runc.Container(root, new_plan) as running:
                again = {r.name: cell(running.exec(r.argv + [url], timeout)) for r in restarted}
        for r in reached:
            if after[r.name] == "yes":
                cells[r.name] = KEPT
            elif again[r.name] == "yes":
                cells[r.name] = RESTART
            else:
                cells[r.name] = f"error: trusted CA1, then neither CA2 after the rotation ({after[r.name]}) " \
                                f"nor after a restart ({again[r.name]})"
    return cells
