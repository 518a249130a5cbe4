#!/usr/bin/python3
"""Renders a kustomization the way `kubectl kustomize DIR` does, for the features deploy/ uses.

    deploy/tools/render.py DIR [-o FILE]

Why this exists: the tests must render the overlays on a fresh Debian machine, where the only
kubectl is Debian's kubernetes-client 1.20; its kustomize (v2.0.3) rejects directories in
`resources:` and the `patches:` field, which current kubectl (kustomize v5) expects. So the tests
render with this script (python3 + python3-yaml, both Debian packages) and, where a current
kubectl is installed, `deploy.kustomize-crosscheck.*` compares the two renderings.

Supported (anything else is an error, never silently ignored):
  resources (files and directories), namespace, images (newName/newTag/digest),
  configMapGenerator (files, literals, options.labels/annotations; the name hash must be
  disabled: per generator or with generatorOptions.disableNameSuffixHash), patches given as
  RFC 6902 JSON patches (inline `patch:` or `path:`) with a target (group/version/kind/name/
  namespace; name as a regular expression, as kustomize matches it).
Output: multi-document YAML, keys sorted, objects in kustomize's legacy kind order.
"""

import argparse
import copy
import os
import re
import sys

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "configMapGenerator",
                  "generatorOptions", "patches"}
# kustomize's "legacy" output order (api/resource/ordering in kustomize); unknown kinds go between.
ORDER_FIRST = ["Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
               "ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
               "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange",
               "PriorityClass", "PersistentVolume", "PersistentVolumeClaim", "Deployment",
               "StatefulSet", "CronJob", "PodDisruptionBudget"]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
CLUSTER_SCOPED = {"Namespace", "StorageClass", "CustomResourceDefinition", "PodSecurityPolicy",
                  "ClusterRole", "ClusterRoleBinding", "PriorityClass", "PersistentVolume",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
POD_SPEC_PATHS = {  # kind -> path to the PodSpec
    "Pod": ["spec"],
    "Deployment": ["spec", "template", "spec"], "StatefulSet": ["spec", "template", "spec"],
    "DaemonSet": ["spec", "template", "spec"], "ReplicaSet": ["spec", "template", "spec"],
    "Job": ["spec", "template", "spec"],
    "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
}


class RenderError(Exception):
    pass


def load_kustomization(directory):
    for name in KUSTOMIZATION_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                k = yaml.safe_load(fh) or {}
            unknown = sorted(set(k) - SUPPORTED_KEYS)
            if unknown:
                raise RenderError(f"{path}: fields not supported by render.py: {unknown}")
            return path, k
    raise RenderError(f"{directory}: no kustomization file")


def inside(directory, path, kpath):
    """kustomize's default load restriction: files must be in or below the kustomization's dir."""
    real = os.path.realpath(path)
    if os.path.commonpath([real, os.path.realpath(directory)]) != os.path.realpath(directory):
        raise RenderError(f"{kpath}: {path} is not in or below {directory} (kustomize refuses files "
                          "outside the kustomization's directory)")


def load_documents(path):
    with open(path, encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d is not None]
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            raise RenderError(f"{path}: a document without apiVersion/kind")
    return docs


def configmap_from_generator(directory, gen, global_opts, kpath):
    unknown = sorted(set(gen) - {"name", "files", "literals", "options", "behavior"})
    if unknown:
        raise RenderError(f"{kpath}: configMapGenerator fields not supported: {unknown}")
    if gen.get("behavior", "create") != "create":
        raise RenderError(f"{kpath}: configMapGenerator behavior {gen['behavior']!r} not supported")
    opts = {**(global_opts or {}), **(gen.get("options") or {})}
    unknown = sorted(set(opts) - {"labels", "annotations", "disableNameSuffixHash"})
    if unknown:
        raise RenderError(f"{kpath}: generator options not supported: {unknown}")
    if not opts.get("disableNameSuffixHash"):
        raise RenderError(f"{kpath}: configMapGenerator {gen['name']}: the name hash suffix is not "
                          "implemented; set options.disableNameSuffixHash: true")
    data = {}
    for item in gen.get("files") or []:
        key, _, rel = item.partition("=") if "=" in item else (os.path.basename(item), "", item)
        inside(directory, os.path.join(directory, rel), kpath)
        with open(os.path.join(directory, rel), encoding="utf-8", newline="") as fh:
            data[key] = fh.read()
    for item in gen.get("literals") or []:
        key, _, value = item.partition("=")
        data[key] = value
    meta = {"name": gen["name"]}
    if opts.get("labels"):
        meta["labels"] = dict(opts["labels"])
    if opts.get("annotations"):
        meta["annotations"] = dict(opts["annotations"])
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def split_image(image):
    """name, tag, digest of an image reference."""
    name, digest = (image.split("@", 1) + [None])[:2]
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return name, tag, digest


def apply_images(objs, images, kpath):
    for img in images:
        unknown = sorted(set(img) - {"name", "newName", "newTag", "digest"})
        if unknown:
            raise RenderError(f"{kpath}: images fields not supported: {unknown}")
    for obj in objs:
        spec = pod_spec(obj)
        if spec is None:
            continue
        for field in ("initContainers", "containers"):
            for c in spec.get(field) or []:
                name, tag, digest = split_image(c.get("image", ""))
                for img in images:
                    if img["name"] != name:
                        continue
                    new_name = img.get("newName", name)
                    if "digest" in img:
                        c["image"] = f"{new_name}@{img['digest']}"
                    elif "newTag" in img:
                        c["image"] = f"{new_name}:{img['newTag']}"
                    else:
                        c["image"] = new_name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
                    break


def pod_spec(obj):
    path = POD_SPEC_PATHS.get(obj.get("kind"))
    node = obj
    for p in path or [None]:
        if p is None or not isinstance(node, dict):
            return None
        node = node.get(p)
    return node if isinstance(node, dict) else None


def pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer {path!r} does not start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    node = doc
    for p in parts:
        if isinstance(node, list):
            node = node[int(p)]
        elif isinstance(node, dict):
            node = node[p]
        else:
            raise KeyError(p)
    return node


def _get(doc, path):
    return _walk(doc, pointer(path))


def _remove(doc, path):
    parts = pointer(path)
    parent = _walk(doc, parts[:-1])
    if isinstance(parent, list):
        return parent.pop(int(parts[-1]))
    return parent.pop(parts[-1])


def _add(doc, path, value):
    parts = pointer(path)
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            i = int(last)
            if not 0 <= i <= len(parent):
                raise IndexError(i)
            parent.insert(i, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)


def json_patch(doc, ops, where):
    for n, op in enumerate(ops):
        kind = op.get("op")
        try:
            if kind == "add":
                _add(doc, op["path"], copy.deepcopy(op["value"]))
            elif kind == "remove":
                _remove(doc, op["path"])
            elif kind == "replace":
                _remove(doc, op["path"])
                _add(doc, op["path"], copy.deepcopy(op["value"]))
            elif kind == "move":
                _add(doc, op["path"], _remove(doc, op["from"]))
            elif kind == "copy":
                _add(doc, op["path"], copy.deepcopy(_get(doc, op["from"])))
            elif kind == "test":
                if _get(doc, op["path"]) != op["value"]:
                    raise RenderError(f"{where}: op {n} (test {op['path']}) failed")
            else:
                raise RenderError(f"{where}: op {n}: unsupported op {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise RenderError(f"{where}: op {n} ({kind} {op.get('path')}): no such location ({e})") from e


def target_matches(obj, target):
    unknown = sorted(set(target) - {"group", "version", "kind", "name", "namespace"})
    if unknown:
        raise RenderError(f"patch target fields not supported: {unknown}")
    api = obj["apiVersion"]
    group, version = api.split("/", 1) if "/" in api else ("", api)
    meta = obj.get("metadata", {})
    checks = [("group", group), ("version", version), ("kind", obj["kind"]),
              ("name", meta.get("name", "")), ("namespace", meta.get("namespace", ""))]
    for key, value in checks:
        if key in target and not re.fullmatch(str(target[key]), value):
            return False
    return True


def apply_patches(objs, patches, directory, kpath):
    for i, p in enumerate(patches):
        unknown = sorted(set(p) - {"path", "patch", "target"})
        if unknown:
            raise RenderError(f"{kpath}: patches[{i}] fields not supported: {unknown}")
        if "path" in p:
            inside(directory, os.path.join(directory, p["path"]), kpath)
            with open(os.path.join(directory, p["path"]), encoding="utf-8") as fh:
                ops = yaml.safe_load(fh)
        else:
            ops = yaml.safe_load(p.get("patch", ""))
        if not isinstance(ops, list):
            raise RenderError(f"{kpath}: patches[{i}]: only JSON 6902 patches (a list of ops) are "
                              "supported, not strategic-merge patches")
        if "target" not in p:
            raise RenderError(f"{kpath}: patches[{i}]: a JSON 6902 patch needs a target")
        hits = [o for o in objs if target_matches(o, p["target"])]
        if not hits:
            raise RenderError(f"{kpath}: patches[{i}]: target {p['target']} matches no object")
        for o in hits:
            json_patch(o, ops, f"{kpath}: patches[{i}] on {o['kind']}/{o['metadata'].get('name')}")


def render(directory, _stack=()):
    directory = os.path.abspath(directory)
    if directory in _stack:
        raise RenderError(f"{directory}: kustomization cycle")
    kpath, k = load_kustomization(directory)
    objs = []
    for res in k.get("resources") or []:
        path = os.path.join(directory, res)
        if os.path.isdir(path):
            objs += render(path, _stack + (directory,))
        elif os.path.isfile(path):
            inside(directory, path, kpath)
            objs += load_documents(path)
        else:
            raise RenderError(f"{kpath}: resource {res} not found")
    for gen in k.get("configMapGenerator") or []:
        objs.append(configmap_from_generator(directory, gen, k.get("generatorOptions"), kpath))
    ns = k.get("namespace")
    if ns:
        for o in objs:
            if o["kind"] == "Namespace":
                o["metadata"]["name"] = ns
            elif o["kind"] not in CLUSTER_SCOPED:
                o.setdefault("metadata", {})["namespace"] = ns
    if k.get("images"):
        apply_images(objs, k["images"], kpath)
    if k.get("patches"):
        apply_patches(objs, k["patches"], directory, kpath)
    seen = set()
    for o in objs:
        ident = (o["apiVersion"].split("/")[0], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        if ident in seen:
            raise RenderError(f"{kpath}: {ident} is defined twice")
        seen.add(ident)
    return objs


def order_key(obj):
    kind = obj["kind"]
    if kind in ORDER_FIRST:
        rank = ORDER_FIRST.index(kind)
    elif kind in ORDER_LAST:
        rank = len(ORDER_FIRST) + 1 + ORDER_LAST.index(kind)
    else:
        rank = len(ORDER_FIRST)
    meta = obj.get("metadata", {})
    return (rank, obj["apiVersion"] if rank == len(ORDER_FIRST) else "", kind,
            meta.get("namespace", ""), meta.get("name", ""))


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value):
    style = "|" if "\n" in value and not value.endswith(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(objs):
    return "---\n".join(yaml.dump(o, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                                  allow_unicode=True, width=4096) for o in objs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("directory")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args()
    try:
        text = dump(sorted(render(args.directory), key=order_key))
    except (RenderError, OSError, yaml.YAMLError) as e:
        print(f"render.py: {e}", file=sys.stderr)
        return 1
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
