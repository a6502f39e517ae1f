"""The trust matrix: which TLS clients trust the enterprise CA, and still trust a public
site, in the container the policy returns, under each settings variant and with each kind
of bundle (docs/trust-matrix.md says how and why).

usage (as root): python3 matrix.py --runner R --policy policy.wasm --docs docs/trust-matrix.md
                 [--update | --pending]
Exits 1 when a client could not be run, when a cell is not a plain yes/no, when a
sanity check fails, or when the docs' tables differ from the measured ones (--update
rewrites them instead). --pending also measures PENDING_VARIANTS, and then only prints."""

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import clients
import image_roots
import kubelet
import pki
import policy
from server import Server

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = REPO / "target" / "trust-matrix"
NAMESPACE = "team-a"
CONTAINER = "app"
TIMEOUT = 60  # seconds a client may take; its own network timeouts are 10 s
PARALLEL = 3  # containers measured at a time: most of a client's time is its start-up
BEGIN = "<!-- trust-matrix: begin (measured by `make trust-matrix`; `make trust-matrix UPDATE=1` rewrites it) -->"
END = "<!-- trust-matrix: end -->"
# Column, settings file (None: the pod as submitted, no policy).
VARIANTS = [
    ("no injection", None),
    ("`default.yaml`", "policy-settings/default.yaml"),
    ("`language-env.yaml`", "policy-settings/language-env.yaml"),
    ("`system-trust-store.yaml`", "policy-settings/system-trust-store.yaml"),
    ("`every-runtime.yaml`", "policy-settings/every-runtime.yaml"),
]
# Settings files for the settings issue 24 adds (envValues, javaTrustStore.cacerts), which
# the policy refuses as unknown keys until they are implemented: measured only with
# --pending. Once the policy accepts them, they move into VARIANTS (and the docs' tables
# are rewritten with UPDATE=1).
PENDING_VARIANTS = [
    ("`env-values.yaml`", "tests/trust-matrix/pending-settings/env-values.yaml"),
    ("`java-cacerts.yaml`", "tests/trust-matrix/pending-settings/java-cacerts.yaml"),
]
# The two tables: the bundle with the public roots, then the enterprise CA alone; the
# second shows which mechanisms replace a client's roots rather than add to them.
BUNDLES = [pki.WITH_DEFAULT_CAS, pki.ENTERPRISE_ONLY]
SERVERS = ("enterprise", "public")
CONTROL = "the client given the CA"


def cluster(bundle: pki.Bundle):
    """The bundle as examples/trust-manager-bundle.yaml has trust-manager write it, with a
    password-less PKCS#12 store too (cacerts.p12), as trust-manager writes one given no password."""
    keys = {"ca.crt": bundle.pem.read_bytes(), "truststore.p12": bundle.truststore.read_bytes(),
            "cacerts.p12": bundle.passwordless.read_bytes()}
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
        pod, warnings = policy.admit(args.runner, args.policy, pod_file, NAMESPACE, settings_path)
        notes += [f"warning: {w}" for w in warnings]
    (staging / "pod.json").write_text(json.dumps(pod, indent=2))
    plan = kubelet.realize(pod, CONTAINER, cluster(bundle), staging / "volumes")
    pod_env = {k: v for k, v in plan["env"].items() if kubelet.IMAGE_ENV.get(k) != v}
    notes += [f"env {k}={v}" for k, v in pod_env.items()]
    notes += [f"mount {m['target']} <- {os.path.relpath(m['source'], staging)}{' (ro)' if m['readOnly'] else ''}"
              for m in plan["mounts"]]
    return plan, notes


def in_namespace(plan, runs, staging):
    """Runs each (key, argv) in the container; {key: result}."""
    plan_file = staging / "plan.json"
    plan_file.write_text(json.dumps({**plan, "runs": runs, "timeout": TIMEOUT}))
    done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, str(HERE / "sandbox.py"),
                           str(plan_file)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"FAIL: the container could not be set up in a private mount namespace (unshare -m, "
                         f"mount; root is needed, and a sandbox may refuse them): {done.stderr.strip()}")
    return json.loads(done.stdout)


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


def docs_table(docs_text):
    if BEGIN not in docs_text or END not in docs_text:
        raise SystemExit(f"the docs have no table between the markers {BEGIN!r} and {END!r}")
    return docs_text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def columns(variants):
    """[(table, column, settings)]: every variant with each bundle; no injection once."""
    return [(table, column, settings) for table in BUNDLES for column, settings in variants
            if settings is not None or table == BUNDLES[0]]


def measure(args, keys, runtimes, unbuildable, servers, layer, variants):
    """{table: {column: {runtime name: (enterprise cell, public cell)}}}, the control in the
    first table; prints what each container got. The containers run PARALLEL at a time."""
    measured = {table: {} for table in BUNDLES}
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        containers = [pool.submit(one_container, args, keys, runtimes, unbuildable, servers, layer, *c)
                      for c in columns(variants)]
        for (table, _, _), container in zip(columns(variants), containers):
            cells, lines = container.result()
            measured[table].update(cells)
            print("\n" + "\n".join(lines))
    return measured


def one_container(args, keys, runtimes, unbuildable, servers, layer, table, column, settings):
    """({column: {runtime name: (enterprise cell, public cell)}}, with the control in the
    no-injection container; the lines to print about it)."""
    staging = WORK / "run" / (table.split(":")[1].strip() + "-" + column.strip("`").replace(" ", "-"))
    staging.mkdir(parents=True)
    try:
        plan, notes = container_for(settings, args, staging, keys.bundles[table])
    except (policy.PolicyError, kubelet.Unrealizable) as error:
        failed = {r.name: (f"not run: {error}",) * 2 for r in runtimes}
        return {key: failed for key in ((column, CONTROL) if settings is None else (column,))}, \
            [f"== {table}, {column}: not run: {error}"]
    runnable = [r for r in runtimes if r.name not in unbuildable]
    runs = [{"key": f"{s} {r.name}", "argv": r.argv + [servers[s].url]} for r in runnable for s in SERVERS]
    if settings is None:  # the positive control, in the container without injection
        runs += [{"key": f"control {r.name}", "argv": r.argv + [servers["enterprise"].url, str(keys.ca)]}
                 for r in runnable]
    results = in_namespace({**plan, "layer": str(layer)}, runs, staging)

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
    return cells, lines


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runner", required=True, type=Path)
    parser.add_argument("--policy", required=True, type=Path)
    parser.add_argument("--docs", required=True, type=Path)
    parser.add_argument("--update", action="store_true")
    parser.add_argument("--pending", action="store_true", help="also measure PENDING_VARIANTS; only print")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("make trust-matrix must run as root: it realizes each container in a private mount "
                         "namespace (unshare -m, mount), which needs root; run it as root (CI does)")
    shutil.rmtree(WORK / "run", ignore_errors=True)
    (WORK / "run").mkdir(parents=True)
    build = WORK / "build"
    keys = pki.make(WORK / "run")
    runtimes = clients.runtimes(build)
    unbuildable = clients.build(build)
    print("measured with:")
    for r in runtimes:
        print(f"   {r.name}: {clients.version(r)}")
    layer = WORK / "run" / "image-layer"
    image_roots.write(image_roots.layer(keys.public_ca, [root for r in runtimes for root in r.own_roots]), layer)
    variants = VARIANTS + (PENDING_VARIANTS if args.pending else [])
    with Server(keys.server_cert, keys.server_key) as enterprise, Server(keys.public_cert, keys.public_key) as public:
        print(f"enterprise server {enterprise.url}, certificate issued by the test CA {keys.ca}")
        print(f"public server {public.url}, certificate issued by the stand-in public CA {keys.public_ca}, "
              f"which the image layer {layer} adds to the image's own roots")
        measured = measure(args, keys, runtimes, unbuildable, {"enterprise": enterprise, "public": public},
                           layer, variants)

    table = tables(measured, runtimes, variants)
    control = measured[BUNDLES[0]].get(CONTROL, {})
    print(f"\ncontrol ({CONTROL}): " + ", ".join(f"{n}: {v[0]}" for n, v in control.items()))
    print("\n" + table)
    (WORK / "matrix.md").write_text(table)
    found = problems(measured, runtimes)
    for problem in found:
        print(f"FAIL: {problem}")
    if found:
        return 1
    if args.pending:
        print(f"measured with PENDING_VARIANTS: {args.docs} is neither checked nor rewritten")
        return 0
    docs_text = args.docs.read_text()
    documented = docs_table(docs_text)
    if documented == table:
        print(f"the measured matrix is the one in {args.docs}")
        return 0
    if args.update:
        before, rest = docs_text.split(BEGIN, 1)
        args.docs.write_text(before + BEGIN + "\n" + table + END + rest.split(END, 1)[1])
        print(f"{args.docs}: table rewritten from this measurement")
        return 0
    print(f"FAIL: the measured matrix differs from the table in {args.docs} (make trust-matrix UPDATE=1 rewrites it):")
    sys.stdout.writelines(difflib.unified_diff(documented.splitlines(True), table.splitlines(True),
                                               f"{args.docs}", "measured"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
