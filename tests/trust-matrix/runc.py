"""The container, run by Debian's runc from an OCI runtime spec, as a container runtime
runs it for kubelet: kubelet's mounts become bind mounts of the spec, and runc resolves
each destination inside the container's root (a symlink on the way lands on its target),
creates a missing mount point there and remounts read-only.

The root is an overlay: its lower layer is the image (the machine's own `/`, or a family
root laid out under target/), its upper layer a directory the caller may fill with the
image's own files before the first run (`image_layer`), and where runc's mount points go;
nothing is created on the machine's `/`. Mounts exist only in the private mount namespace
that `private_mount_namespace` puts this process in, so they go when it exits. The spec
has no network namespace: the container shares the machine's, and reaches the loopback
servers.

plan (kubelet.realize): {"env": {...}, "mounts": [{"source", "target", "readOnly"}]}
runs: [{"key", "argv"}]  ->  {key: {"exit", "stdout", "stderr"[, "notRun"]}}"""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

RUNC = "runc"
REPO = Path(__file__).resolve().parent.parent.parent  # the clients, their builds, the test's files
HOSTNAME = "trust-matrix"
NAMESPACE_MARK = "TRUST_MATRIX_MOUNT_NAMESPACE"  # set once this process runs in its own
_ids = itertools.count()  # next() is atomic under the GIL: names stay apart across the matrix's threads
# What runc's `runc spec` gives a container, less the network namespace (the host's is
# shared) and with /sys bound rather than mounted (sysfs cannot be mounted without one).
_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
_SYSTEM_MOUNTS = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]},
]
_MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
           "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]
_READ_ONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


class RuncError(Exception):
    pass


def private_mount_namespace():
    """Runs this program again in a mount namespace of its own (unshare -m, as root), unless
    it already runs in one: the overlays it mounts then vanish with it, even if it is killed."""
    if os.environ.get(NAMESPACE_MARK) == str(os.getpid()):
        return
    argv = in_private_mount_namespace([sys.executable, *sys.argv])
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        raise SystemExit(f"FAIL: unshare cannot be run (util-linux): {error}")


def in_private_mount_namespace(argv):
    """ARGV run by unshare in a mount namespace of its own, which it is told of."""
    return ["unshare", "-m", "--propagation", "private", "--", "sh", "-c", f'{NAMESPACE_MARK}=$$ exec "$@"', "sh",
            *argv]


def _mount_points():
    with open("/proc/self/mountinfo") as mountinfo:
        return [line.split()[4].encode().decode("unicode_escape") for line in mountinfo]


def mounted_under(directory: Path):
    """The mount points at or under DIRECTORY in this mount namespace."""
    top = str(directory).rstrip("/")
    return [p for p in _mount_points() if p == top or p.startswith(top + "/")]


def _mount_point_of(path: Path):
    """The mount point PATH is under: the longest mount point that is a prefix of it."""
    return max((p for p in _mount_points() if str(path) == p or str(path).startswith(p.rstrip("/") + "/")), key=len)


def image_layer(staging: Path) -> Path:
    """The overlay's upper directory for the containers run from STAGING: files written here
    before `run` are the image's own (they hide the lower layer's)."""
    upper = staging / "image"
    upper.mkdir(parents=True, exist_ok=True)
    return upper


def spec(plan, root: str, argv, cwd="/"):
    """The OCI runtime spec (config.json) of a container that runs ARGV."""
    binds = [{"destination": m["target"], "type": "bind", "source": m["source"],
              "options": ["rbind", "rprivate", "ro" if m["readOnly"] else "rw"]}
             for m in _by_depth(plan["mounts"])]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": {"uid": 0, "gid": 0}, "args": list(argv),
            "env": [f"{k}={v}" for k, v in plan["env"].items()], "cwd": cwd,
            "capabilities": {kind: _CAPABILITIES for kind in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": root, "readonly": False},
        "hostname": HOSTNAME,
        "mounts": _SYSTEM_MOUNTS + binds,
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
            "maskedPaths": _MASKED, "readonlyPaths": _READ_ONLY,
        },
    }


def _by_depth(mounts):
    """Shallowest destination first, as containerd's CRI orders a container's mounts, so that
    a mount over a file in a mounted directory is not hidden by that directory's mount."""
    return sorted(mounts, key=lambda m: len([p for p in m["target"].split("/") if p]))


class Root:
    """The overlay root of the containers of one staging directory, mounted on enter."""

    def __init__(self, staging: Path, lower="/"):
        self.staging, self.lower = staging, str(lower)
        self.upper, self.work, self.merged = image_layer(staging), staging / "overlay-work", staging / "rootfs"
        self.state = staging / "runc-state"

    def __enter__(self):
        if os.environ.get(NAMESPACE_MARK) != str(os.getpid()):
            raise RuncError("the container's root is mounted only in this program's own mount namespace "
                            "(runc.private_mount_namespace() first)")
        for directory in (self.work, self.merged, self.state):
            directory.mkdir(parents=True, exist_ok=True)
        _mount("-t", "overlay", "overlay", "-o", f"lowerdir={self.lower},upperdir={self.upper},workdir={self.work}",
               str(self.merged))
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", str(self.merged)], capture_output=True)

    def runc(self, *argv, **kwargs):
        return subprocess.run([RUNC, "--root", str(self.state), *argv], **kwargs)

    def bundle(self, plan, argv, name):
        bundle = self.staging / "bundles" / name
        bundle.mkdir(parents=True, exist_ok=True)
        (bundle / "config.json").write_text(json.dumps(spec(self.with_repo(plan), str(self.merged), argv), indent=1))
        return bundle

    def with_repo(self, plan):
        """The plan, plus the repository bound read-only where the machine's root does not
        show it (a checkout on a file system of its own): the clients must be visible."""
        if self.lower != "/" or _mount_point_of(REPO) == "/":
            return plan
        return {**plan, "mounts": plan["mounts"] + [{"source": str(REPO), "target": str(REPO), "readOnly": True}]}

    def run(self, plan, argv, timeout):
        """ARGV in a container of its own, in the foreground: its result."""
        name = f"trust-matrix-{os.getpid()}-{next(_ids)}"
        bundle = self.bundle(plan, argv, name)
        try:
            return _result(self.runc("run", "--bundle", str(bundle), name, stdin=subprocess.DEVNULL,
                                      capture_output=True, text=True, timeout=timeout), argv)
        except subprocess.TimeoutExpired:
            return {"exit": None, "stdout": "", "stderr": f"timed out after {timeout} s"}
        finally:
            self.runc("delete", "--force", name, capture_output=True)


def _result(done, argv):
    """runc's exit is the process's; runc's own failures (the process could not be started)
    are told apart by runc's messages on stderr."""
    starting = "runc run failed" in done.stderr or "runc exec failed" in done.stderr or \
        "starting container process caused" in done.stderr
    if done.returncode != 0 and starting:
        return {"exit": None, "stdout": done.stdout, "stderr": done.stderr,
                "notRun": f"cannot start {argv[0]}: {done.stderr.strip()[-300:]}"}
    return {"exit": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


class Container:
    """A long-running container (`runc run -d`, PAUSE as its process) in which each client
    runs as a new process (`runc exec`), as `kubectl exec` runs one."""

    PAUSE = ["sleep", "infinity"]

    def __init__(self, root: Root, plan):
        self.root, self.plan = root, plan
        self.name = f"trust-matrix-{os.getpid()}-{next(_ids)}"

    def __enter__(self):
        bundle = self.root.bundle(self.plan, self.PAUSE, self.name)
        # A file, not a pipe: the detached process keeps runc's stdio open after runc exits.
        with open(bundle / "run.log", "w+") as log:
            done = self.root.runc("run", "--detach", "--bundle", str(bundle), self.name, stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=log, timeout=60)
            log.seek(0)
            if done.returncode != 0:
                raise RuncError(f"runc run --detach {self.name}: {log.read().strip()}")
        return self

    def exec(self, argv, timeout):
        process = self.root.staging / "bundles" / self.name / "process.json"
        process.write_text(json.dumps(spec(self.root.with_repo(self.plan), "", argv)["process"]))
        try:
            return _result(self.root.runc("exec", "--process", str(process), self.name, stdin=subprocess.DEVNULL,
                                          capture_output=True, text=True, timeout=timeout), argv)
        except subprocess.TimeoutExpired:
            return {"exit": None, "stdout": "", "stderr": f"timed out after {timeout} s"}

    def __exit__(self, *exc):
        self.root.runc("delete", "--force", self.name, capture_output=True)


def run(plan, runs, staging: Path, timeout, lower="/"):
    """Runs each (key, argv) in a container of the plan over the root; {key: result}."""
    with Root(staging, lower) as root:
        return {r["key"]: root.run(plan, r["argv"], timeout) for r in runs}


def _mount(*argv):
    done = subprocess.run(["mount", *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuncError(f"mount {' '.join(argv)}: {done.stderr.strip()}")
