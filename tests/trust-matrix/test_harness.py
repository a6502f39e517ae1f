"""Unit tests of the harness's own rules, run by `make trust-matrix` before it measures:
kubelet's volume layout, items, modes, subPath and refusals; the JSONPatch; the sandbox's
resolution of a mount destination inside the root."""

import os
import shutil
import stat
import tempfile
import unittest
from pathlib import Path

import kubelet
import policy
import sandbox

CLUSTER = kubelet.Cluster(configMaps={"bundle": {"ca.crt": b"PEM", "truststore.p12": b"P12"}},
                          secrets={"bundle": {"ca.crt": b"SECRET"}},
                          clusterTrustBundles={"corp:root": b"CTB"})


def pod(container, volumes):
    return {"spec": {"containers": [{"name": "app", **container}], "volumes": volumes}}


class Kubelet(unittest.TestCase):
    def setUp(self):
        self.staging = Path(tempfile.mkdtemp(prefix="trust-matrix-test."))
        self.addCleanup(shutil.rmtree, self.staging)

    def realize(self, container, volumes):
        return kubelet.realize(pod(container, volumes), "app", CLUSTER, self.staging)

    def test_config_map_volume_is_laid_out_as_the_atomic_writer_does(self):
        plan = self.realize({"volumeMounts": [{"name": "v", "mountPath": "/cacerts"}]},
                            [{"name": "v", "configMap": {"name": "bundle"}}])
        volume = self.staging / "v"
        self.assertEqual(sorted(os.listdir(volume)),
                         ["..2024_01_01_00_00_00.000000000", "..data", "ca.crt", "truststore.p12"])
        self.assertEqual(os.readlink(volume / "ca.crt"), "..data/ca.crt")
        self.assertEqual((volume / "ca.crt").read_bytes(), b"PEM")
        self.assertEqual(stat.S_IMODE((volume / "ca.crt").stat().st_mode), 0o644)
        self.assertEqual(plan["mounts"], [{"source": str(volume), "target": "/cacerts", "readOnly": True}])
        self.assertEqual(plan["env"], kubelet.IMAGE_ENV)

    def test_items_modes_and_sub_path(self):
        volumes = [{"name": "v", "secret": {"secretName": "bundle", "defaultMode": 0o400,
                                            "items": [{"key": "ca.crt", "path": "certs/bundle.pem", "mode": 0o444}]}}]
        plan = self.realize({"volumeMounts": [{"name": "v", "mountPath": "/etc/ssl/cert.pem",
                                               "subPath": "certs/bundle.pem"}]}, volumes)
        volume = self.staging / "v"
        self.assertEqual(sorted(os.listdir(volume)), ["..2024_01_01_00_00_00.000000000", "..data", "certs"])
        self.assertEqual((volume / "certs/bundle.pem").read_bytes(), b"SECRET")
        self.assertEqual(stat.S_IMODE((volume / "certs/bundle.pem").stat().st_mode), 0o444)
        self.assertEqual(plan["mounts"], [{"source": str(volume / "certs/bundle.pem"),
                                           "target": "/etc/ssl/cert.pem", "readOnly": True}])

    def test_projected_sources_and_literal_env(self):
        volumes = [{"name": "v", "projected": {"sources": [
            {"configMap": {"name": "bundle", "items": [{"key": "truststore.p12", "path": "store.p12"}]}},
            {"clusterTrustBundle": {"name": "corp:root", "path": "ca.crt"}}]}}]
        plan = self.realize({"env": [{"name": "SSL_CERT_FILE", "value": "/cacerts/ca.crt"}, {"name": "EMPTY"}],
                             "volumeMounts": [{"name": "v", "mountPath": "/cacerts", "readOnly": False}]}, volumes)
        volume = self.staging / "v"
        self.assertEqual((volume / "store.p12").read_bytes(), b"P12")
        self.assertEqual((volume / "ca.crt").read_bytes(), b"CTB")
        self.assertTrue(plan["mounts"][0]["readOnly"])
        self.assertEqual(plan["env"], {**kubelet.IMAGE_ENV, "SSL_CERT_FILE": "/cacerts/ca.crt", "EMPTY": ""})

    def test_optional_missing_object_is_an_empty_volume(self):
        self.realize({"volumeMounts": [{"name": "v", "mountPath": "/x"}]},
                     [{"name": "v", "configMap": {"name": "absent", "optional": True}}])
        self.assertEqual(sorted(os.listdir(self.staging / "v")), ["..2024_01_01_00_00_00.000000000", "..data"])

    def test_what_cannot_be_realized_is_refused_by_name(self):
        cases = [
            ({"volumeMounts": [{"name": "v", "mountPath": "/x"}]}, [{"name": "v", "configMap": {"name": "absent"}}],
             "configMap 'absent' does not exist: kubelet would not start the container"),
            ({"volumeMounts": [{"name": "v", "mountPath": "/x", "subPath": "nope"}]},
             [{"name": "v", "configMap": {"name": "bundle"}}], "volumeMount /x: subPath 'nope' is not in volume 'v'"),
            ({"env": [{"name": "A", "valueFrom": {}}]}, [], "env A: valueFrom is not realized by this harness"),
            ({"env": [{"name": "A", "value": "$(B)"}]}, [],
             "env A: $(VAR) references are not expanded by this harness"),
            ({"volumeMounts": [{"name": "v", "mountPath": "/x"}]}, [{"name": "v", "emptyDir": {}}],
             "volume 'v': ['emptyDir'] is not realized by this harness"),
        ]
        for container, volumes, message in cases:
            with self.assertRaises(kubelet.Unrealizable) as raised:
                self.realize(container, volumes)
            self.assertEqual(str(raised.exception), message)


class JsonPatch(unittest.TestCase):
    def test_add_replace_remove(self):
        document = {"spec": {"containers": [{"name": "app", "env": [{"name": "A"}]}], "x~/y": 1}}
        patch = [{"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "B"}},
                 {"op": "add", "path": "/spec/containers/0/env/0", "value": {"name": "Z"}},
                 {"op": "add", "path": "/spec/volumes", "value": []},
                 {"op": "replace", "path": "/spec/x~0~1y", "value": 2},
                 {"op": "remove", "path": "/spec/containers/0/env/1"}]
        self.assertEqual(policy.apply_patch(document, patch),
                         {"spec": {"containers": [{"name": "app", "env": [{"name": "Z"}, {"name": "B"}]}],
                                   "x~/y": 2, "volumes": []}})
        self.assertEqual(document["spec"]["containers"][0]["env"], [{"name": "A"}])

    def test_unknown_operation_is_refused(self):
        with self.assertRaises(policy.PolicyError):
            policy.apply_patch({}, [{"op": "move", "from": "/a", "path": "/b"}])


class Resolve(unittest.TestCase):
    def test_symlinks_resolve_inside_the_root(self):
        root = tempfile.mkdtemp(prefix="trust-matrix-test.")
        self.addCleanup(shutil.rmtree, root)
        os.makedirs(f"{root}/etc/ssl/certs")
        os.symlink("/etc/ssl/certs/ca-certificates.crt", f"{root}/etc/ssl/cert.pem")
        os.symlink("ssl", f"{root}/etc/tls")
        self.assertEqual(sandbox.resolve(root, "/etc/ssl/cert.pem"), "/etc/ssl/certs/ca-certificates.crt")
        self.assertEqual(sandbox.resolve(root, "/etc/tls/cert.pem"), "/etc/ssl/certs/ca-certificates.crt")
        self.assertEqual(sandbox.resolve(root, "/etc/pki/tls/certs/ca-bundle.crt"), "/etc/pki/tls/certs/ca-bundle.crt")


if __name__ == "__main__":
    unittest.main()
