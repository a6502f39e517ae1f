"""One container of a pod realized as kubelet and the container runtime would: its
environment (the image's, then the pod's literal env vars), and its mounts, each volume
written as kubelet's atomic writer writes ConfigMap, Secret and projected volumes (the keys
as files under a timestamped directory, `..data` pointing at it, one link per key), with
`items`, modes and `subPath` applied. ConfigMap, Secret and projected volumes are mounted
read-only whatever the mount says (kubelet has done so since Kubernetes 1.10).

What the harness cannot realize faithfully (valueFrom, envFrom, $(VAR) references,
subPathExpr, other volume types, devices) is refused with a message, never ignored."""

import os
import re
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
    """{'env': {...}, 'mounts': [{'source', 'target', 'readOnly'}]} for the container."""
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
    return {"env": _environment(container), "mounts": mounts}


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
        if os.path.isabs(sub_path) or ".." in sub_path.split("/"):
            raise Unrealizable(f"volumeMount {mount['mountPath']}: subPath {sub_path!r} leaves the volume")
        source = directory / sub_path
        if not os.path.lexists(source):
            raise Unrealizable(f"volumeMount {mount['mountPath']}: subPath {sub_path!r} is not in volume {mount['name']!r}")
    read_only = bool(mount.get("readOnly")) or any(kind in volume for kind in API_DATA)
    return {"source": str(source), "target": mount["mountPath"], "readOnly": read_only}


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
    """kubelet's layout: DIR/..<timestamp>/<files>, DIR/..data -> ..<timestamp>, and
    DIR/<top> -> ..data/<top> for each top-level entry."""
    data = directory / "..2024_01_01_00_00_00.000000000"
    data.mkdir(parents=True)
    for path, (content, mode) in files.items():
        target = data / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(mode)
    os.symlink(data.name, directory / "..data")
    for top in sorted({path.split("/")[0] for path in files}):
        os.symlink(f"..data/{top}", directory / top)
