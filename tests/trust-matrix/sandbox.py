"""The container, run inside `unshare -m` (a private mount namespace), as root.

Its root filesystem is the machine's own, seen through an overlay whose writable layer is
a tmpfs, as a container runtime lays an image: a mount point the image lacks is created in
that layer, never on the machine. The machine's other mounts (/proc, /dev, ...) are bound
into it, then the container's mounts are bound on top, shallowest first, read-only where
the plan says so. Each client then runs chrooted there, with the container's environment
only, under a time limit. Everything is undone when the namespace's last process exits.

usage: unshare -m python3 sandbox.py PLAN.json  ->  JSON results on stdout
PLAN: {"mounts": [{"source", "target", "readOnly"}], "env": {...}, "layer": directory or absent,
       "runs": [{"key", "argv"}], "timeout": seconds}
"layer" is an image layer (image_roots.py) laid over the machine's root, under the mounts."""

import json
import os
import shutil
import subprocess
import sys
import tempfile


def mount(*argv):
    done = subprocess.run(["mount", *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"mount {' '.join(argv)}: {done.stderr.strip()}")


def machine_mounts():
    """Mount points of the namespace, parents before children (mountinfo's order)."""
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    return [p.encode().decode("unicode_escape") for p in points]


def under(path, directories):
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in directories)


def make_root(scratch, image_layer=None):
    mount("-t", "tmpfs", "tmpfs", scratch)
    for layer in ("upper", "work", "root"):
        os.mkdir(f"{scratch}/{layer}")
    if image_layer:
        shutil.copytree(image_layer, f"{scratch}/upper", symlinks=True, dirs_exist_ok=True)
    root = f"{scratch}/root"
    mount("-t", "overlay", "overlay", "-o", f"lowerdir=/,upperdir={scratch}/upper,workdir={scratch}/work", root)
    bound = []  # bound recursively, with what is mounted below them
    for point in machine_mounts():
        if point == "/" or under(point, [scratch, *bound]):
            continue
        if os.path.exists(root + point):
            mount("--rbind", point, root + point)
            bound.append(point)
    return root


def resolve(root, path):
    """PATH inside ROOT, its symlinks resolved within ROOT (as runc resolves a mount's
    destination), the part that does not exist yet kept as written."""
    resolved = "/"
    parts = [p for p in path.split("/") if p]
    for _ in range(len(parts) + 40):
        if not parts:
            return resolved
        candidate = os.path.join(resolved, parts.pop(0))
        if os.path.islink(root + candidate):
            link = os.readlink(root + candidate)
            parts = [p for p in link.split("/") if p] + parts
            resolved = "/" if link.startswith("/") else resolved
        else:
            resolved = os.path.normpath(candidate)
    raise OSError(f"too many symlinks in {path}")


def bind(root, source, target, read_only):
    destination = root + resolve(root, target)
    if os.path.isdir(source):
        os.makedirs(destination, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        if not os.path.exists(destination):
            open(destination, "a").close()
    mount("--bind", source, destination)
    if read_only:
        mount("-o", "remount,bind,ro", destination)


def run(root, argv, env, timeout):
    def enter():
        os.chroot(root)
        os.chdir("/")

    try:
        done = subprocess.run(argv, env=env, preexec_fn=enter, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
        return {"exit": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    except subprocess.TimeoutExpired:
        return {"exit": None, "stdout": "", "stderr": f"timed out after {timeout} s"}
    except OSError as error:
        return {"exit": None, "stdout": "", "stderr": "", "notRun": f"cannot start {argv[0]}: {error}"}


def main(plan_file):
    with open(plan_file) as f:
        plan = json.load(f)
    mount("--make-rprivate", "/")
    with tempfile.TemporaryDirectory(prefix="trust-matrix-root.") as scratch:
        root = make_root(scratch, plan.get("layer"))
        for m in sorted(plan["mounts"], key=lambda m: len([p for p in m["target"].split("/") if p])):
            bind(root, m["source"], m["target"], m["readOnly"])
        results = {r["key"]: run(root, r["argv"], plan["env"], plan["timeout"]) for r in plan["runs"]}
        json.dump(results, sys.stdout)
        # The mounts would go with the namespace; detached now so that the directory can go.
        subprocess.run(["umount", "-l", scratch], check=True)


if __name__ == "__main__":
    main(sys.argv[1])
