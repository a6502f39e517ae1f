"""The pod the policy returns: the real policy.wasm run by the runner on the pod
(`policy-runner run --object`), its JSONPatch (RFC 6902) applied as the API server
applies it."""

import base64
import copy
import json
import subprocess


class PolicyError(Exception):
    pass


def admit(runner, wasm, pod_file, namespace, settings):
    """The pod after admission under the settings file, and the answer's warnings."""
    argv = [str(runner), "run", "--object", str(pod_file), "--namespace", namespace,
            "--settings-path", str(settings), "--output", "json", str(wasm)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except OSError as error:
        raise PolicyError(f"{runner} cannot be run: {error}") from error
    if done.returncode != 0:
        raise PolicyError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    answer = json.loads(done.stdout)
    if not answer.get("allowed"):
        raise PolicyError(f"the policy refused the pod under {settings}: {answer.get('status')}")
    if "patch" not in answer:
        raise PolicyError(f"the policy left the pod unchanged under {settings}")
    patch = json.loads(base64.b64decode(answer["patch"]))
    pod = json.loads(pod_file.read_text())
    return apply_patch(pod, patch), answer.get("warnings") or []


def apply_patch(document, patch):
    document = copy.deepcopy(document)
    for operation in patch:
        op, path = operation["op"], _pointer(operation["path"])
        if op not in ("add", "replace", "remove"):
            raise PolicyError(f"patch operation {op!r} is not applied by this harness: {operation}")
        parent, last = _parent(document, path)
        if op == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, operation["value"])
            else:
                parent[index] = operation["value"]
        else:
            if op == "replace" and last not in parent:
                raise PolicyError(f"patch replaces a missing member: {operation}")
            parent[last] = operation["value"]
    return document


def _pointer(path):
    if path == "":
        raise PolicyError("patch operation on the whole document")
    return [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")[1:]]


def _parent(document, tokens):
    node = document
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, tokens[-1]
