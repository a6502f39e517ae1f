"""The trust matrix: which TLS clients trust the enterprise CA in the container the policy
returns, under each settings variant (docs/trust-matrix.md says how and why).

usage (as root): python3 matrix.py --runner R --policy policy.wasm --docs docs/trust-matrix.md [--update]
Exits 1 when a client could not be run, when a cell is not a plain yes/no, when a
sanity check fails, or when the docs' table differs from the measured one (--update
rewrites it instead)."""

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import clients
import families
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
    ("`every-runtime.yaml`", "policy-settings/every-runtime.yaml"),
]
CONTROL = "the client given the CA"


def cluster(keys: pki.Pki):
    """The bundle as examples/trust-manager-bundle.yaml has trust-manager write it."""
    bundle = {"ca.crt": keys.bundle.read_bytes(), "truststore.p12": keys.truststore.read_bytes()}
    return kubelet.Cluster(configMaps={"ca-bundle": bundle}, secrets={"ca-bundle": bundle},
                           clusterTrustBundles={"example.com:corp:root": keys.bundle.read_bytes()})


def container_for(settings, args, staging, keys):
    """The container's plan (env, mounts) under the settings, and what to print about it."""
    pod_file = HERE / "pod.json"
    pod, notes = json.loads(pod_file.read_text()), []
    if settings is not None:
        settings_path = REPO / settings
        if not settings_path.exists():
            raise policy.PolicyError(f"{settings} does not exist")
        pod, warnings = policy.admit(args.runner, args.policy, pod_file, NAMESPACE, settings_path)
        notes += [f"warning: {w}" for w in warnings]
    (staging / "pod.json").write_text(json.dumps(pod, indent=2))
    plan = kubelet.realize(pod, CONTAINER, cluster(keys), staging / "volumes")
    pod_env = {k: v for k, v in plan["env"].items() if kubelet.IMAGE_ENV.get(k) != v}
    notes += [f"env {k}={v}" for k, v in pod_env.items()]
    notes += [f"mount {m['target']} <- {os.path.relpath(m['source'], staging)}{' (ro)' if m['readOnly'] else ''}"
              for m in plan["mounts"]]
    return plan, notes


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


def docs_table(docs_text, begin=BEGIN, end=END):
    if begin not in docs_text or end not in docs_text:
        raise SystemExit(f"the docs have no table between the markers {begin!r} and {end!r}")
    return docs_text.split(begin, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def with_table(docs_text, begin, end, table):
    before, rest = docs_text.split(begin, 1)
    return before + begin + "\n" + table + end + rest.split(end, 1)[1]


def measure(args, keys, runtimes, unbuildable, server):
    """{column: {runtime name: cell}}, plus the control column, and {column: (pod, plan)};
    prints what each container got."""
    measured, containers = {}, {}
    for column, settings in VARIANTS:
        staging = WORK / "run" / column.strip("`").replace(" ", "-")
        staging.mkdir(parents=True)
        try:
            plan, notes = container_for(settings, args, staging, keys)
        except (policy.PolicyError, kubelet.Unrealizable) as error:
            print(f"\n== {column}: not run: {error}")
            for key in (column, CONTROL) if settings is None else (column,):
                measured[key] = {r.name: f"not run: {error}" for r in runtimes}
            continue
        print(f"\n== {column}" + (f" ({settings})" if settings else "") + ": container " + CONTAINER)
        print("".join(f"   {n}\n" for n in notes), end="")
        runs = [{"key": r.name, "argv": r.argv + [server.url]} for r in runtimes if r.name not in unbuildable]
        if settings is None:  # the positive control, in the container without injection
            runs += [{"key": f"control {r.name}", "argv": r.argv + [server.url, str(keys.ca)]}
                     for r in runtimes if r.name not in unbuildable]
        results = in_container(plan, runs, staging)
        containers[column] = (json.loads((staging / "pod.json").read_text()), plan)

        def outcome(runtime, key):
            if runtime.name in unbuildable:
                return f"not run: {unbuildable[runtime.name]}"
            return cell(results[key], server.token)

        measured[column] = {r.name: outcome(r, r.name) for r in runtimes}
        if settings is None:
            measured[CONTROL] = {r.name: outcome(r, f"control {r.name}") for r in runtimes}
        for r in runtimes:
            print(f"   {r.name}: {measured[column][r.name]}")
    return measured, containers


def measure_families(containers, keys, unbuildable, server):
    """{column: {family row: cell}} and the families' control; prints each file's verdict."""
    print("\n== image families")
    built = {name: unbuildable.get(name, path) for name, path in clients.static_clients(WORK / "build").items()}
    return families.measure({c: plan for c, (_, plan) in containers.items()}, WORK / "run" / "families", built, keys,
                            server.url, lambda result: cell(result, server.token), TIMEOUT)


def measure_rotation(containers, keys, runtimes, measured):
    """{rotation column: {runtime name: cell}}: trusted after kubelet's update without a
    restart, only after one, or not reached by the settings at all."""
    keys2 = pki.make((WORK / "run" / "ca2").resolve(), "Test Enterprise Root CA 2")
    found = {}
    with Server(keys2.server_cert, keys2.server_key) as server2:
        print(f"\n== rotation: CA1's bundle, then CA2's; server {server2.url}, certificate issued by CA2")
        for column, matrix_column in rotation.COLUMNS:
            pod, _ = containers[matrix_column]
            staging = WORK / "run" / "rotation" / matrix_column.strip("`").replace(" ", "-")
            plan = kubelet.realize(pod, CONTAINER, cluster(keys), staging / "volumes")
            found[column] = rotation.measure(pod, CONTAINER, plan, staging, cluster(keys2), runtimes,
                                             measured[matrix_column], server2.url,
                                             lambda result: cell(result, server2.token), TIMEOUT)
            for name, value in found[column].items():
                print(f"   {column}, {name}: {value}")
    column, settings = rotation.JAVA_CACERTS
    if not (REPO / settings).exists():
        found[column] = {r.name: f"pending: {settings} (javaTrustStore.cacerts) is not there yet" for r in runtimes}
    return found


def problems(measured):
    found = []
    for column, cells in measured.items():
        failed = {name: value for name, value in cells.items() if value not in ("yes", "no")}
        if len(failed) == len(cells) and len(set(failed.values())) == 1:  # the whole column, one reason
            found.append(f"{column}, every client: {next(iter(failed.values()))}")
            continue
        found += [f"{name}, {column}: {value}" for name, value in failed.items()]
    for name, value in measured["no injection"].items():
        if value == "yes":
            found.append(f"{name} trusts the test CA with no injection: the CA reached the machine's own "
                         "store, or the client does not verify; the matrix would prove nothing")
    for name, value in measured[CONTROL].items():
        if value == "no":
            found.append(f"{name} does not trust the server even when given the CA: the client or the "
                         "server is broken, so its 'no' cells would prove nothing")
    return found


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
    runtimes = clients.runtimes(build, WORK / "pip")
    unbuildable = clients.build(build)
    print("measured with:")
    for r in runtimes:
        print(f"   {r.name}: {clients.version(r)}")
    with Server(keys.server_cert, keys.server_key) as server:
        print(f"server {server.url}, certificate issued by the test CA {keys.ca}")
        started = time.monotonic()
        measured, containers = measure(args, keys, runtimes, unbuildable, server)
        print(f"(the matrix: {time.monotonic() - started:.0f} s)")
        started = time.monotonic()
        family_cells = measure_families(containers, keys, unbuildable, server)
        print(f"(the image families: {time.monotonic() - started:.0f} s)")
    started = time.monotonic()
    rotated = measure_rotation(containers, keys, runtimes, measured)
    print(f"(the rotation: {time.monotonic() - started:.0f} s)")

    columns = [c for c, _ in VARIANTS]
    table = markdown([(r.name, [measured[c][r.name] for c in columns]) for r in runtimes], columns)
    family_rows = [row for family in families.FAMILIES for row in families.rows(family)]
    family_table = markdown([(row, [family_cells[c][row] for c in columns]) for row in family_rows], columns)
    rotation_columns = [c for c, _ in rotation.COLUMNS] + [rotation.JAVA_CACERTS[0]]
    rotation_table = markdown([(r.name, [rotated[c][r.name] for c in rotation_columns]) for r in runtimes],
                              rotation_columns)
    print(f"\ncontrol ({CONTROL}): " + ", ".join(f"{n}: {v}" for n, v in measured[CONTROL].items()))
    family_control = family_cells.pop("control")
    print("control (the image families): " + ", ".join(f"{n}: {v}" for n, v in family_control.items()))
    tables = [table, family_table, rotation_table]
    for text in tables:
        print("\n" + text)
    (WORK / "matrix.md").write_text("\n".join(tables))
    found = problems(measured) + family_problems(family_cells, family_control) + rotation_problems(rotated)
    for problem in found:
        print(f"FAIL: {problem}")
    if found:
        return 1
    return compare_with_docs(args, tables)


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
            if value not in allowed and not (column == rotation.JAVA_CACERTS[0] and value.startswith("pending:"))]


def compare_with_docs(args, tables):
    docs_text = args.docs.read_text()
    differ = []
    for (what, begin, end), table in zip(TABLES, tables):
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
