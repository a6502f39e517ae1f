"""What kubelet hands the container runtime for one container of a pod: its environment
(the image's, then the pod's literal env vars), and its mounts: each volume written as
kubelet's atomic writer (kubernetes pkg/volume/util/atomic_writer.go) writes ConfigMap,
Secret and projected volumes (the keys as files under a timestamped directory, `..data`
pointing at it, one link per top-level entry), with `items`, modes and projected sources
applied; a `subPath` resolved inside the volume as kubelet resolves it (its symlinks
followed, so the mount is of the file in the timestamped directory of that moment:
pkg/volume/util/subpath). ConfigMap, Secret and projected volumes are mounted read-only
whatever the mount says (kubelet has done so since Kubernetes 1.10). The runtime (runc.py)
resolves the mount destinations inside the container's root.

Writing a volume again with other data is kubelet's update of a running pod's volume: a
new timestamped directory, `..data` swapped by a rename, the old directory removed.

What the harness cannot realize faithfully (valueFrom, envFrom, $(VAR) references,
subPathExpr, other volume types, devices) is refused with a message, never ignored."""

import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

# The image: the machine itself, with the environment a Debian image's config gives.
IMAGE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}
DEFAULT_MODE = 0o644
API_DATA = ("configMap", "secret", "projected")


class Unrealizable(Exception):
    pass


@dataclass
class Cluster:
    """The objects volumes read: name -> {key: bytes}; clusterTrustBundles name -> PEM bytes."""
    configMaps: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    clusterTrustBundles: dict = field(default_factory=dict)


def realize(pod, container_name, cluster, staging: Path):
    """{'env': {...}, 'mounts': [{'source', 'target', 'readOnly'}]} for the container, its
    volumes written (or brought up to date with CLUSTER) under STAGING."""
    containers = [c for c in pod["spec"]["containers"] if c["name"] == container_name]
    if len(containers) != 1:
        raise Unrealizable(f"the pod has no single container {container_name!r}")
    container = containers[0]
    for unsupported in ("envFrom", "volumeDevices"):
        if container.get(unsupported):
            raise Unrealizable(f"container {container_name!r}: {unsupported} is not realized by this harness")
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    written = {}
    mounts = []
    for mount in container.get("volumeMounts", []):
        name = mount["name"]
        if name not in volumes:
            raise Unrealizable(f"volumeMount {mount['mountPath']} names no volume of the pod: {name!r}")
        if name not in written:
            written[name] = _write_volume(volumes[name], cluster, staging / name)
        mounts.append(_mount(mount, volumes[name], written[name]))
    if not any(m["target"] == "/etc/hosts" for m in mounts):
        mounts.append(_hosts_file(staging))
    return {"env": _environment(container), "mounts": mounts}


def _hosts_file(staging):
    """kubelet's managed /etc/hosts, which it mounts in every container that does not mount
    its own (pkg/kubelet/kubelet_pods.go, makeHostsMount): localhost, and the pod's name.
    A dot starts its name, which no volume's name can."""
    staging.mkdir(parents=True, exist_ok=True)
    hosts = staging / ".etc-hosts"
    hosts.write_text("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\ttrust-matrix\n")
    return {"source": str(hosts), "target": "/etc/hosts", "readOnly": False}


def _environment(container):
    env = dict(IMAGE_ENV)
    for var in container.get("env", []):
        if "valueFrom" in var:
            raise Unrealizable(f"env {var['name']}: valueFrom is not realized by this harness")
        value = var.get("value", "")
        if re.search(r"\$\(", value):
            raise Unrealizable(f"env {var['name']}: $(VAR) references are not expanded by this harness")
        env[var["name"]] = value
    return env


def _mount(mount, volume, directory):
    if mount.get("subPathExpr"):
        raise Unrealizable(f"volumeMount {mount['mountPath']}: subPathExpr is not realized by this harness")
    source = directory
    sub_path = mount.get("subPath", "")
    if sub_path:
        source = _resolve_sub_path(mount, directory, sub_path)
    read_only = bool(mount.get("readOnly")) or any(kind in volume for kind in API_DATA)
    return {"source": str(source), "target": mount["mountPath"], "readOnly": read_only}


def _resolve_sub_path(mount, directory, sub_path):
    """The entry kubelet binds for a subPath: the path with its symlinks followed (through
    `..data` into the timestamped directory of this moment), refused when it leaves the
    volume (pkg/volume/util/subpath, doBindSubPath)."""
    where = f"volumeMount {mount['mountPath']}: subPath {sub_path!r}"
    if os.path.isabs(sub_path) or ".." in sub_path.split("/"):
        raise Unrealizable(f"{where} leaves the volume")
    if not os.path.lexists(directory / sub_path):
        raise Unrealizable(f"{where} is not in volume {mount['name']!r}")
    resolved, volume = Path(os.path.realpath(directory / sub_path)), Path(os.path.realpath(directory))
    if resolved != volume and volume not in resolved.parents:
        raise Unrealizable(f"{where} resolves to {resolved}, outside the volume")
    return resolved


def _write_volume(volume, cluster, directory):
    kinds = [k for k in volume if k != "name"]
    if len(kinds) != 1 or kinds[0] not in API_DATA:
        raise Unrealizable(f"volume {volume['name']!r}: {kinds} is not realized by this harness")
    kind = kinds[0]
    spec = volume[kind]
    mode = spec.get("defaultMode", DEFAULT_MODE)
    if kind == "projected":
        files = {}
        for source in spec.get("sources", []):
            files.update(_projected_source(source, cluster, mode))
    else:
        files = _object_files(kind, spec, cluster, mode)
    _atomic_write(directory, files)
    return directory


def _projected_source(source, cluster, mode):
    if "configMap" in source:
        return _object_files("configMap", source["configMap"], cluster, mode)
    if "secret" in source:
        return _object_files("secret", source["secret"], cluster, mode)
    if "clusterTrustBundle" in source:
        bundle = source["clusterTrustBundle"]
        if "name" not in bundle:
            raise Unrealizable("clusterTrustBundle by signerName is not realized by this harness")
        pem = cluster.clusterTrustBundles.get(bundle["name"])
        if pem is None:
            raise Unrealizable(f"ClusterTrustBundle {bundle['name']!r} does not exist")
        return {bundle["path"]: (pem, mode)}
    raise Unrealizable(f"projected source {sorted(source)} is not realized by this harness")


def _object_files(kind, spec, cluster, mode):
    """{path: (bytes, mode)} of a configMap or secret volume (or projected source)."""
    name = spec["name"] if kind == "configMap" else spec.get("secretName", spec.get("name"))
    objects = cluster.configMaps if kind == "configMap" else cluster.secrets
    keys = objects.get(name)
    if keys is None:
        if spec.get("optional"):
            return {}
        raise Unrealizable(f"{kind} {name!r} does not exist: kubelet would not start the container")
    items = spec.get("items")
    if items is None:
        return {key: (data, mode) for key, data in keys.items()}
    files = {}
    for item in items:
        if item["key"] not in keys:
            if spec.get("optional"):
                continue
            raise Unrealizable(f"{kind} {name!r} has no key {item['key']!r}: kubelet would not start the container")
        files[item["path"]] = (keys[item["key"]], item.get("mode", mode))
    return files


def _atomic_write(directory, files):
    """kubelet's atomic writer: the payload in a new DIR/..<UTC timestamp>.<random>, a
    `..data_tmp` link to it renamed over `..data` (the one atomic step), a DIR/<top> ->
    ..data/<top> link for each new top-level entry, the entries the payload lost and the
    previous timestamped directory removed. Nothing is written when the payload is the one
    on disk."""
    directory.mkdir(parents=True, exist_ok=True)
    data_link = directory / "..data"
    previous = os.readlink(data_link) if os.path.islink(data_link) else None
    tops = {path.split("/")[0] for path in files}
    if previous is not None:
        on_disk = _payload_on_disk(directory / previous)
        if on_disk == {path: content for path, (content, _) in files.items()}:
            return
    stamp = directory / f"..{time.strftime('%Y_%m_%d_%H_%M_%S', time.gmtime())}.{secrets.randbelow(10**9):09d}"
    stamp.mkdir(mode=0o755)
    stamp.chmod(0o755)
    for path, (content, mode) in files.items():
        target = stamp / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(mode)
    os.symlink(stamp.name, directory / "..data_tmp")
    os.rename(directory / "..data_tmp", data_link)
    for top in sorted(tops):
        if not os.path.islink(directory / top):
            os.symlink(f"..data/{top}", directory / top)
    for entry in os.listdir(directory):
        if not entry.startswith("..") and entry not in tops:
            os.remove(directory / entry)
    if previous is not None:
        shutil.rmtree(directory / previous)


def _payload_on_disk(stamp):
    return {str(path.relative_to(stamp)): path.read_bytes() for path in stamp.rglob("*") if path.is_file()}
