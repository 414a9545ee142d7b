"""Fake kubectl on the simulated cluster: the verbs a provisioning daemon uses.

get / apply / replace / patch / scale / annotate / label / delete / create / version,
with kubectl's texts, exit code 1 on errors, and JSON output shaped like the
real API server's (sorted keys, 4-space indent).
"""

import json
import re
import sys
import time

import fakecluster as fc
from fakecluster import Exit

VERBS = ("get", "apply", "replace", "patch", "scale", "annotate", "label", "delete", "create",
         "version")

# Flags that take a value, by long name; short spellings map to long names.
VALUE_FLAGS = {"kubeconfig", "namespace", "output", "selector", "context", "cluster", "user", "server",
               "request-timeout", "filename", "patch", "patch-file", "type", "replicas",
               "field-manager", "grace-period", "timeout", "current-replicas", "resource-version",
               "for", "field-selector", "sort-by", "template", "token", "as", "v", "cache-dir",
               "chunk-size", "label-columns", "subresource"}
BOOL_FLAGS = {"all-namespaces", "ignore-not-found", "wait", "overwrite", "all", "force", "client",
              "show-labels", "no-headers", "server-side", "force-conflicts", "recursive", "local",
              "watch", "insecure-skip-tls-verify", "short", "list", "now", "show-managed-fields"}
# Flags whose value is optional (pflag NoOptDefVal).
OPTIONAL_VALUE_FLAGS = {"dry-run": "unknown", "validate": "strict", "cascade": "background"}
SHORT_FLAGS = {"n": "namespace", "o": "output", "l": "selector", "f": "filename", "p": "patch",
               "s": "server", "A": "all-namespaces", "w": "watch", "R": "recursive",
               "L": "label-columns", "v": "v"}
ARGV_VALUE_FLAGS = {"--" + f for f in VALUE_FLAGS} | {
    "-" + s for s, f in SHORT_FLAGS.items() if f in VALUE_FLAGS}

CONNECTION_REFUSED = ("The connection to the server localhost:8080 was refused - did you specify "
                      "the right host or port?")
UNDELETABLE_NAMESPACES = {"default", "kube-system", "kube-public"}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class UsageError(Exception):
    pass


def parse_args(argv):
    """Returns (flags {long name: value}, positionals) or raises UsageError."""
    flags, args, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if name in VALUE_FLAGS:
                if not eq:
                    if i >= len(argv):
                        raise UsageError(f"flag needs an argument: --{name}")
                    value = argv[i]
                    i += 1
                flags[name] = value
            elif name in BOOL_FLAGS:
                if eq and value not in ("true", "false", "1", "0", "t", "f", "True", "False"):
                    raise UsageError(f'invalid argument "{value}" for "--{name}" flag: '
                                     f'strconv.ParseBool: parsing "{value}": invalid syntax')
                flags[name] = (value in ("true", "1", "t", "True")) if eq else True
            elif name in OPTIONAL_VALUE_FLAGS:
                flags[name] = value if eq else OPTIONAL_VALUE_FLAGS[name]
            else:
                raise UsageError(f"unknown flag: --{name}")
        elif a.startswith("-") and len(a) > 1:
            c, rest = a[1], a[2:]
            name = SHORT_FLAGS.get(c)
            if name is None:
                raise UsageError(f"unknown shorthand flag: '{c}' in {a}")
            if name in BOOL_FLAGS:
                flags[name] = True
                if rest:
                    raise UsageError(f"unknown shorthand flag: '{rest[0]}' in {a}")
                continue
            if rest:
                value = rest[1:] if rest.startswith("=") else rest
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                raise UsageError(f"flag needs an argument: '{c}' in {a}")
            flags[name] = value
        else:
            args.append(a)
    return flags, args


# --------------------------------------------------------------------------
# Output formatting


def go_json(obj, indent=4):
    """encoding/json MarshalIndent: sorted map keys, HTML-safe escaping, UTF-8 kept."""
    text = json.dumps(obj, indent=indent, sort_keys=True, ensure_ascii=False)
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


_YAML_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./ -]*")
_YAML_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", ""}


def _yaml_str(s):
    if "\n" in s:
        return None  # block scalar
    if (_YAML_PLAIN.fullmatch(s) and s.lower() not in _YAML_RESERVED and not s.endswith(" ")
            and not re.fullmatch(r"[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?", s)):
        return s
    return json.dumps(s, ensure_ascii=False)


def to_yaml(value, indent=0):
    """A go-yaml v2 style dump (what `kubectl get -o yaml` prints)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        for k in sorted(value):
            v = value[k]
            key = _yaml_str(str(k)) or json.dumps(k)
            lines.append(_yaml_entry(pad + key + ":", v, indent, key_len=len(pad)))
        return "".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        for v in value:
            lines.append(_yaml_entry(pad + "-", v, indent, in_list=True))
        return "".join(lines)
    return pad + _yaml_scalar(value) + "\n"


def _yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return _yaml_str(v) or json.dumps(v)


def _yaml_entry(head, v, indent, in_list=False, key_len=0):
    if isinstance(v, dict) and v:
        if in_list:
            inner = to_yaml(v, indent + 2)
            return head + " " + inner[indent + 2:]
        return head + "\n" + to_yaml(v, indent + 2)
    if isinstance(v, list) and v:
        if in_list:
            inner = to_yaml(v, indent + 2)
            return head + " " + inner[indent + 2:]
        return head + "\n" + to_yaml(v, indent)
    if isinstance(v, str) and "\n" in v:
        body_pad = " " * (indent + (4 if in_list else 2))
        chomp = "" if v.endswith("\n") else "-"
        body = "".join(body_pad + line + "\n" if line else "\n"
                       for line in v[:-1 if v.endswith("\n") else None].split("\n"))
        return head + " |" + chomp + "\n" + body
    if isinstance(v, dict):
        return head + " {}\n"
    if isinstance(v, list):
        return head + " []\n"
    return head + " " + _yaml_scalar(v) + "\n"


def jsonpath(template, obj):
    """A subset of kubectl's JSONPath: {.a.b}, {.a[0]}, {.a[*].b}, {.a['x.y']}, literals."""
    out, pos = [], 0
    for m in re.finditer(r"\{([^{}]*)\}", template):
        out.append(template[pos:m.start()])
        pos = m.end()
        expr = m.group(1).strip()
        if expr.startswith('"') and expr.endswith('"'):
            out.append(json.loads(expr))
            continue
        if expr.startswith("range") or expr == "end":
            raise UsageError("error executing jsonpath: range is not supported by this fake")
        values = [obj]
        for part in re.findall(r"\.((?:\\\.|[^.\[])+)|\[([^\]]*)\]", expr.lstrip("$")):
            key, index = part
            nxt = []
            for v in values:
                if key:
                    key_u = key.replace("\\.", ".")
                    if isinstance(v, dict) and key_u in v:
                        nxt.append(v[key_u])
                elif index == "*":
                    nxt.extend(v if isinstance(v, list) else (v.values() if isinstance(v, dict) else []))
                elif index[:1] in ("'", '"'):
                    if isinstance(v, dict) and index[1:-1] in v:
                        nxt.append(v[index[1:-1]])
                elif isinstance(v, list):
                    try:
                        nxt.append(v[int(index)])
                    except (ValueError, IndexError):
                        pass
            values = nxt
        out.append(" ".join(v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
                            for v in values))
    out.append(template[pos:])
    return "".join(out)


def _epoch(rfc3339):
    """'2026-01-12T08:00:00Z' -> seconds since the epoch (no _strptime import)."""
    y, mo, d = int(rfc3339[0:4]), int(rfc3339[5:7]), int(rfc3339[8:10])
    h, mi, s = int(rfc3339[11:13]), int(rfc3339[14:16]), int(rfc3339[17:19])
    y -= mo <= 2  # days_from_civil (H. Hinnant)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + h * 3600 + mi * 60 + s


def human_age(created):
    try:
        t = _epoch(created)
    except (TypeError, ValueError):
        return "<unknown>"
    s = max(0, int(time.time() - t))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    return f"{h // 24}d"


def tabwriter(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("".join(c.ljust(w + 3) for c, w in zip(r[:-1], widths)) + r[-1] + "\n"
                   for r in rows)


def table_row(kind, obj):
    meta = obj["metadata"]
    age = human_age(meta.get("creationTimestamp"))
    name = meta["name"]
    if kind.kind == "Namespace":
        return ["NAME", "STATUS", "AGE"], [name, obj.get("status", {}).get("phase", "Active"), age]
    if kind.kind in ("ConfigMap", "Secret"):
        n = str(len(obj.get("data") or {}))
        if kind.kind == "Secret":
            return ["NAME", "TYPE", "DATA", "AGE"], [name, obj.get("type", "Opaque"), n, age]
        return ["NAME", "DATA", "AGE"], [name, n, age]
    if kind.kind == "StatefulSet":
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        return ["NAME", "READY", "AGE"], [name, ready, age]
    if kind.kind == "DatabaseCluster":
        engine = (obj.get("spec") or {}).get("engine") or {}
        return (["NAME", "SIZE", "READY", "STATUS", "AGE"],
                [name, str(engine.get("replicas", "")), str((obj.get("status") or {}).get("ready", "")),
                 str((obj.get("status") or {}).get("status", "")), age])
    if kind.kind == "LimitRange":
        return ["NAME", "CREATED AT"], [name, meta.get("creationTimestamp", "")]
    return ["NAME", "AGE"], [name, age]


# --------------------------------------------------------------------------
# Object helpers


def render(st, obj):
    """The object as the API server would return it (derived status filled in)."""
    obj = fc.clone(obj)
    if obj["kind"] == "ResourceQuota":
        hard = dict((obj.get("spec") or {}).get("hard") or {})
        ns = obj["metadata"]["namespace"]
        used = {}
        for key in hard:
            if key == "count/databaseclusters.everest.percona.com":
                used[key] = str(len(st.list("DatabaseCluster", ns)))
            else:
                used[key] = "0"
        obj["status"] = {"hard": hard, "used": used} if hard else {}
    return obj


def sync_status(obj):
    """Derived status fields a controller would maintain at once in this fake."""
    kind = obj["kind"]
    if kind == "StatefulSet":
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        status = obj.setdefault("status", {})
        status["replicas"] = replicas
        status["currentReplicas"] = replicas
        status["updatedReplicas"] = replicas
        status["availableReplicas"] = replicas
        if replicas:
            status["readyReplicas"] = replicas
        else:
            status.pop("readyReplicas", None)
    elif kind == "DatabaseCluster":
        status = obj.setdefault("status", {})
        paused = bool((obj.get("spec") or {}).get("paused"))
        status["status"] = "paused" if paused else "ready"
        replicas = ((obj.get("spec") or {}).get("engine") or {}).get("replicas", 1)
        status["size"] = replicas
        status["ready"] = 0 if paused else replicas


def strip_server_fields(obj):
    """The object without server-maintained metadata (and empty label/annotation maps)."""
    obj = fc.clone(obj)
    meta = obj.get("metadata") or {}
    for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        meta.pop(k, None)
    for k in ("labels", "annotations"):
        if k in meta and not meta[k]:
            del meta[k]
    return obj


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return fc.clone(patch)
    result = fc.clone(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def json_patch(doc, ops):
    """RFC 6902 (add, remove, replace, test, copy, move)."""
    doc = fc.clone(doc)

    def walk(path):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        return parent, parts[-1]

    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        try:
            if kind == "test":
                parent, key = walk(path)
                cur = parent[int(key)] if isinstance(parent, list) else parent[key]
                if cur != op.get("value"):
                    raise ValueError(f"testing value {path} failed")
                continue
            if kind in ("copy", "move"):
                src_parent, src_key = walk(op["from"])
                value = fc.clone(src_parent[int(src_key)] if isinstance(src_parent, list)
                                      else src_parent[src_key])
                if kind == "move":
                    if isinstance(src_parent, list):
                        del src_parent[int(src_key)]
                    else:
                        del src_parent[src_key]
                op = {"op": "add", "path": path, "value": value}
                kind = "add"
            parent, key = walk(path)
            if kind == "remove":
                if isinstance(parent, list):
                    del parent[int(key)]
                else:
                    del parent[key]
            elif kind in ("add", "replace"):
                if isinstance(parent, list):
                    if key == "-":
                        parent.append(op["value"])
                    elif kind == "add":
                        parent.insert(int(key), op["value"])
                    else:
                        parent[int(key)] = op["value"]
                else:
                    if kind == "replace" and key not in parent:
                        raise KeyError(key)
                    parent[key] = op["value"]
            else:
                raise ValueError(f"Unexpected kind: {kind}")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ValueError(f"the server rejected our request due to an error in our request: {e}")
    return doc


def parse_selector(text):
    """Label selector terms: k=v, k==v, k!=v, k, !k (comma-separated, ANDed)."""
    terms = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if "!=" in part:
            k, v = part.split("!=", 1)
            terms.append(("ne", k.strip(), v.strip()))
        elif "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            terms.append(("eq", k.strip(), v.strip()))
        elif part.startswith("!"):
            terms.append(("absent", part[1:].strip(), None))
        else:
            terms.append(("present", part, None))
    return terms


def selector_matches(terms, obj):
    labels = obj.get("metadata", {}).get("labels") or {}
    for op, k, v in terms:
        if op == "eq" and labels.get(k) != v:
            return False
        if op == "ne" and labels.get(k) == v:
            return False
        if op == "present" and k not in labels:
            return False
        if op == "absent" and k in labels:
            return False
    return True


# --------------------------------------------------------------------------
# Context


class KubeCtx:
    def __init__(self, inv, flags, args, explicit_kubeconfig):
        self.inv = inv
        self.flags = flags
        self.verb = args[0] if args else ""
        self.args = args[1:]
        self.explicit_kubeconfig = explicit_kubeconfig

    def flag(self, name, default=None):
        return self.flags.get(name, default)

    @property
    def namespace(self):
        return self.flags.get("namespace") or "default"

    @property
    def dry_run(self):
        mode = self.flags.get("dry-run")
        if mode in (None, "none"):
            return None
        return "server dry run" if mode == "server" else "dry run"

    def out(self, text):
        self.inv.out(text)

    def fail(self, msg):
        self.inv.err(msg.rstrip("\n") + "\n")
        raise Exit(1)

    def connect(self):
        if self.inv.cluster is None:
            if self.explicit_kubeconfig:
                self.fail(f"error: stat {self.inv.kubeconfig}: no such file or directory")
            self.fail(CONNECTION_REFUSED)

    def txn(self):
        return self.inv.transaction()

    def kind(self, word):
        kind = fc.kind_by_name(word)
        if kind is None:
            self.fail(f'error: the server doesn\'t have a resource type "{word}"')
        return kind

    def target_objects(self, min_names=1):
        """`<kind> <name>...` or `<kind>/<name>...`: [(Kind, name)]."""
        if not self.args:
            self.fail('error: You must specify the type of resource to get. Use "kubectl '
                      'api-resources" for a complete list of supported resources.')
        targets = []
        if "/" in self.args[0] and not fc.kind_by_name(self.args[0]):
            for a in self.args:
                word, _, name = a.partition("/")
                if not name:
                    self.fail("error: arguments in resource/name form must have a single resource "
                              "and name")
                targets.append((self.kind(word), name))
        else:
            kind = self.kind(self.args[0])
            targets = [(kind, n) for n in self.args[1:]]
        if len(targets) < min_names:
            self.fail("error: resource(s) were provided, but no name was specified")
        return targets

    def object_namespace(self, kind):
        return self.namespace if kind.namespaced else None

    def print_object_line(self, kind, name, action):
        suffix = f" ({self.dry_run})" if self.dry_run else ""
        self.out(f"{kind.qualified}/{name} {action}{suffix}\n")


def not_found(kind, name):
    return f'Error from server (NotFound): {kind.resource} "{name}" not found'


# --------------------------------------------------------------------------
# Verbs


def cmd_get(ctx):
    if not ctx.args:
        ctx.fail('error: You must specify the type of resource to get. Use "kubectl '
                 'api-resources" for a complete list of supported resources.')
    ctx.connect()
    output = ctx.flag("output", "")
    selector = parse_selector(ctx.flag("selector"))
    all_ns = ctx.flag("all-namespaces")
    named = "/" in ctx.args[0] or len(ctx.args) > 1
    items, errors = [], []
    with ctx.txn() as st:
        if named:
            targets = ctx.target_objects()
            for kind, name in targets:
                obj = st.get(kind.kind, ctx.object_namespace(kind), name)
                if obj is not None:
                    items.append((kind, render(st, obj)))
                elif not ctx.flag("ignore-not-found"):
                    errors.append(not_found(kind, name))
            list_kind = targets[0][0]
            single = len(targets) == 1
        else:
            list_kind = ctx.kind(ctx.args[0])
            ns = None if (all_ns or not list_kind.namespaced) else ctx.namespace
            for obj in st.list(list_kind.kind, ns):
                if selector_matches(selector, obj):
                    items.append((list_kind, render(st, obj)))
            single = False
    if items or not named:
        _print_get(ctx, list_kind, items, single, output, all_ns)
    if errors:
        ctx.fail("\n".join(errors))


def _print_get(ctx, kind, items, single, output, all_ns):
    objs = [o for _, o in items]
    if output in ("json", "yaml") or output.startswith(("jsonpath", "go-template")):
        if single:
            doc = objs[0]
        else:
            doc = {"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}}
        if output == "json":
            ctx.out(go_json(doc) + "\n")
        elif output == "yaml":
            ctx.out(to_yaml(doc))
        elif output.startswith("jsonpath"):
            template = output.split("=", 1)[1] if "=" in output else ""
            try:
                ctx.out(jsonpath(template, doc))
            except UsageError as e:
                ctx.fail(f"error: {e}")
        else:
            ctx.fail("error: go-template output is not supported by this fake")
        return
    if output == "name":
        for k, o in items:
            ctx.out(f"{k.qualified}/{o['metadata']['name']}\n")
        return
    if output not in ("", "wide"):
        ctx.fail(f'error: unable to match a printer suitable for the output format "{output}", '
                 "allowed formats are: custom-columns,custom-columns-file,go-template,"
                 "go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,"
                 "templatefile,wide,yaml")
    if not items:
        where = "" if (all_ns or not kind.namespaced) else f" in {ctx.namespace} namespace"
        ctx.inv.err(f"No resources found{where}.\n")
        return
    rows = []
    for k, o in items:
        header, row = table_row(k, o)
        if all_ns and k.namespaced:
            header, row = ["NAMESPACE"] + header, [o["metadata"]["namespace"]] + row
        if ctx.flag("show-labels"):
            labels = o["metadata"].get("labels") or {}
            header, row = header + ["LABELS"], row + [
                ",".join(f"{a}={b}" for a, b in sorted(labels.items())) or "<none>"]
        if not rows and not ctx.flag("no-headers"):
            rows.append(header)
        rows.append(row)
    ctx.out(tabwriter(rows))


def _read_manifests(ctx, verb):
    source = ctx.flag("filename")
    if not source:
        ctx.fail("error: must specify one of -f and -k" if verb == "apply"
                 else "error: must specify --filename to " + verb)
    label = "STDIN" if source == "-" else source
    try:
        if source == "-":
            text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        ctx.fail(f'error: the path "{source}" does not exist' if isinstance(e, FileNotFoundError)
                 else f"error: {e}")
    if not text.strip():
        ctx.fail(f"error: no objects passed to {verb}")
    try:
        doc = json.loads(text)
    except ValueError as e:
        ctx.fail(f"error: error parsing {label}: error converting YAML to JSON: yaml: {e} "
                 "(this fake accepts JSON manifests only)")
    items = doc.get("items", []) if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") \
        else [doc]
    return label, items


def _manifest_target(ctx, label, item):
    """(Kind, namespace, name) of one manifest, or an error text."""
    if not isinstance(item, dict) or not item.get("kind"):
        return None, f"error: unable to decode \"{label}\": Object 'Kind' is missing in " \
                     f"'{json.dumps(item, separators=(',', ':'))}'"
    kind = fc.KIND_BY_KIND.get(item["kind"])
    meta = item.get("metadata") or {}
    name = meta.get("name")
    if kind is None or item.get("apiVersion") != kind.api_version:
        return None, (f'error: resource mapping not found for name: "{name}" namespace: '
                      f'"{meta.get("namespace", "")}" from "{label}": no matches for kind '
                      f'"{item["kind"]}" in version "{item.get("apiVersion", "")}"\n'
                      "ensure CRDs are installed first")
    if not name:
        return None, "error: resource name may not be empty"
    ns = None
    if kind.namespaced:
        obj_ns, flag_ns = meta.get("namespace"), ctx.flags.get("namespace")
        if obj_ns and flag_ns and obj_ns != flag_ns:
            return None, (f'error: the namespace from the provided object "{obj_ns}" does not match '
                          f'the namespace "{flag_ns}". You must pass \'--namespace={obj_ns}\' to '
                          "perform this operation.")
        ns = obj_ns or ctx.namespace
    return (kind, ns, name), None


def _clean_manifest(item, kind, ns):
    obj = fc.clone(item)
    obj.pop("status", None)
    meta = obj.setdefault("metadata", {})
    if kind.namespaced:
        meta["namespace"] = ns
    for k in ("uid", "creationTimestamp", "generation", "managedFields", "selfLink"):
        meta.pop(k, None)
    if obj["kind"] == "Secret" and "stringData" in obj:
        data = obj.setdefault("data", {})
        for k, v in obj.pop("stringData").items():
            data[k] = fc.b64(v)
    return obj


def _last_applied(obj):
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def apply_merge(existing, manifest):
    """kubectl apply's three-way merge, at the granularity of top-level fields and of
    labels/annotations: fields in the manifest win, fields dropped since the last
    apply are removed, everything else is kept."""
    last = _last_applied(existing) if existing else {}
    config = fc.clone(manifest)
    config.get("metadata", {}).pop("resourceVersion", None)
    (config["metadata"].get("annotations") or {}).pop(LAST_APPLIED, None)
    if existing is None:
        obj = fc.clone(config)
    else:
        obj = fc.clone(existing)
        skip = ("metadata", "status", "apiVersion", "kind")
        for k in last:
            if k not in config and k not in skip:
                obj.pop(k, None)
        for k, v in config.items():
            if k not in skip:
                obj[k] = fc.clone(v)
        for section in ("labels", "annotations"):
            current = dict(obj["metadata"].get(section) or {})
            for k in (last.get("metadata", {}).get(section) or {}):
                if k not in (config["metadata"].get(section) or {}):
                    current.pop(k, None)
            current.update(config["metadata"].get(section) or {})
            obj["metadata"][section] = current
    annotations = obj["metadata"].setdefault("annotations", {})
    annotations[LAST_APPLIED] = json.dumps(config, sort_keys=True, separators=(",", ":")) + "\n"
    return obj


def cmd_apply(ctx):
    return _apply_like(ctx, "apply")


def cmd_create(ctx):
    if ctx.args and not ctx.flag("filename"):
        if ctx.args[0] not in ("namespace", "ns"):
            ctx.fail(f'error: unknown command "{ctx.args[0]}" for "kubectl create"'
                     " (this fake creates namespaces only)")
        if len(ctx.args) != 2:
            ctx.fail("error: exactly one NAME is required, got " + str(len(ctx.args) - 1))
        ctx.connect()
        name = ctx.args[1]
        if not DNS1123_LABEL.fullmatch(name) or len(name) > 63:
            ctx.fail(f'The Namespace "{name}" is invalid: metadata.name: Invalid value: "{name}": a '
                     "lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                     "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',"
                     "  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        with ctx.txn() as st:
            if st.namespace(name) is not None:
                ctx.fail(f'Error from server (AlreadyExists): namespaces "{name}" already exists')
            if not ctx.dry_run:
                st.put(fc.namespace_object(name))
        ctx.print_object_line(fc.KIND_BY_KIND["Namespace"], name, "created")
        return
    return _apply_like(ctx, "create")


def _apply_like(ctx, verb):
    label, items = _read_manifests(ctx, verb)
    ctx.connect()
    errors = []
    for item in items:
        target, error = _manifest_target(ctx, label, item)
        if error:
            errors.append(error)
            continue
        kind, ns, name = target
        manifest = _clean_manifest(item, kind, ns)
        with ctx.txn() as st:
            if kind.namespaced and st.namespace(ns) is None:
                errors.append(f'Error from server (NotFound): error when creating "{label}": '
                              f'namespaces "{ns}" not found')
                continue
            existing = st.get(kind.kind, ns, name)
            if verb == "create":
                if existing is not None:
                    errors.append(f'Error from server (AlreadyExists): error when creating "{label}": '
                                  f'{kind.resource} "{name}" already exists')
                    continue
                obj = manifest
                obj["metadata"].pop("resourceVersion", None)
            else:
                obj = apply_merge(existing, manifest)
            sync_status(obj)
            if existing is not None and strip_server_fields(obj) == strip_server_fields(existing):
                action = "unchanged"
            else:
                action = "created" if existing is None else "configured"
                if not ctx.dry_run:
                    st.put(obj)
        if verb == "apply" and ctx.flag("server-side"):
            action = "serverside-applied"
        ctx.print_object_line(kind, name, action)
    if errors:
        ctx.fail("\n".join(errors))


def cmd_replace(ctx):
    label, items = _read_manifests(ctx, "replace")
    ctx.connect()
    errors = []
    for item in items:
        target, error = _manifest_target(ctx, label, item)
        if error:
            errors.append(error)
            continue
        kind, ns, name = target
        manifest = _clean_manifest(item, kind, ns)
        wanted_rv = manifest["metadata"].pop("resourceVersion", None)
        with ctx.txn() as st:
            existing = st.get(kind.kind, ns, name)
            if existing is None:
                errors.append(f'Error from server (NotFound): error when replacing "{label}": '
                              f'{kind.resource} "{name}" not found')
                continue
            if (kind.kind == "ConfigMap" and ns == fc.SYSTEM_NS and name == fc.RBAC_CONFIGMAP
                    and int(st.setting("rbac_conflicts") or 0) > 0):
                # a concurrent writer (everest UI, another tool) updates the ConfigMap first
                st.set_setting("rbac_conflicts", int(st.setting("rbac_conflicts")) - 1)
                st.put(fc.clone(existing), effect=False)
                existing = st.get(kind.kind, ns, name)
            if wanted_rv and wanted_rv != existing["metadata"]["resourceVersion"]:
                errors.append(f'Error from server (Conflict): error when replacing "{label}": '
                              f'Operation cannot be fulfilled on {kind.resource} "{name}": the object '
                              "has been modified; please apply your changes to the latest version "
                              "and try again")
                continue
            if "status" in existing:
                manifest["status"] = fc.clone(existing["status"])
            sync_status(manifest)
            if strip_server_fields(manifest) != strip_server_fields(existing) and not ctx.dry_run:
                st.put(manifest)
        ctx.print_object_line(kind, name, "replaced")
    if errors:
        ctx.fail("\n".join(errors))


def cmd_patch(ctx):
    targets = ctx.target_objects()
    patch_text = ctx.flag("patch")
    if patch_text is None and ctx.flag("patch-file"):
        try:
            with open(ctx.flag("patch-file"), encoding="utf-8") as f:
                patch_text = f.read()
        except OSError as e:
            ctx.fail(f"error: unable to read patch file: {e}")
    if patch_text is None:
        ctx.fail("error: must specify --patch or --patch-file containing the contents of the patch")
    patch_type = ctx.flag("type", "strategic")
    if patch_type not in ("strategic", "merge", "json"):
        ctx.fail(f'error: --type must be one of [json merge strategic], not "{patch_type}"')
    try:
        patch = json.loads(patch_text)
    except ValueError as e:
        ctx.fail(f'error: unable to parse "{patch_text}": yaml: {e}')
    ctx.connect()
    for kind, name in targets:
        with ctx.txn() as st:
            obj = st.get(kind.kind, ctx.object_namespace(kind), name)
            if obj is None:
                ctx.fail(not_found(kind, name))
            if patch_type == "strategic" and kind.group not in ("", "apps"):
                ctx.fail("Error from server (UnsupportedMediaType): the body of the request was in "
                         "an unknown format - accepted media types include: "
                         "application/json-patch+json, application/merge-patch+json, "
                         "application/apply-patch+yaml")
            try:
                if patch_type == "json":
                    if not isinstance(patch, list):
                        raise ValueError("json: cannot unmarshal object into Go value of type "
                                         "jsonpatch.Patch")
                    new = json_patch(obj, patch)
                else:
                    if not isinstance(patch, dict):
                        raise ValueError("json: cannot unmarshal into Go value of type map")
                    new = merge_patch(obj, patch)
            except ValueError as e:
                ctx.fail(f"Error from server (BadRequest): {e}")
            for key in ("uid", "creationTimestamp", "resourceVersion", "name", "namespace"):
                if key in obj["metadata"]:
                    new.setdefault("metadata", {})[key] = obj["metadata"][key]
            new["kind"], new["apiVersion"] = obj["kind"], obj["apiVersion"]
            sync_status(new)
            changed = strip_server_fields(new) != strip_server_fields(obj)
            if changed and not ctx.dry_run:
                st.put(new)
        ctx.print_object_line(kind, name, "patched" if changed else "patched (no change)")


def cmd_scale(ctx):
    targets = ctx.target_objects()
    replicas = ctx.flag("replicas")
    if replicas is None:
        ctx.fail('error: required flag(s) "replicas" not set')
    try:
        count = int(replicas)
        if count < 0:
            raise ValueError
    except ValueError:
        ctx.fail("error: The --replicas=COUNT flag is required, and COUNT must be greater than or "
                 "equal to 0")
    ctx.connect()
    for kind, name in targets:
        if kind.kind != "StatefulSet":
            ctx.fail(f'error: no scaler has been implemented for {{"{kind.group}" "{kind.kind}"}}')
        with ctx.txn() as st:
            obj = st.get(kind.kind, ctx.object_namespace(kind), name)
            if obj is None:
                ctx.fail(not_found(kind, name))
            current = (obj.get("spec") or {}).get("replicas", 1)
            expected = ctx.flag("current-replicas")
            if expected is not None and int(expected) != current:
                ctx.fail(f"error: Expected replicas to be {expected}, was {current}")
            if current != count and not ctx.dry_run:
                obj.setdefault("spec", {})["replicas"] = count
                sync_status(obj)
                st.put(obj)
        ctx.print_object_line(kind, name, "scaled")


def _metadata_edit(ctx, section):
    """annotate / label: `<kind> <name>... key=value key-` (`<kind>/<name>` works too)."""
    resources, changes = [], []
    for a in ctx.args:
        (changes if ("=" in a or (a.endswith("-") and len(a) > 1 and resources)) else resources).append(a)
    noun = "annotation" if section == "annotations" else "label"
    if not changes:
        ctx.fail(f"error: at least one {noun} update is required")
    if not resources:
        ctx.fail('error: You must specify the type of resource to get. Use "kubectl api-resources" '
                 "for a complete list of supported resources.")
    ctx.args = resources
    targets = ctx.target_objects(min_names=0)
    ctx.connect()
    if ctx.flag("all") and "/" not in resources[0]:
        kind = ctx.kind(resources[0])
        with ctx.txn() as st:
            targets = [(kind, o["metadata"]["name"]) for o in st.list(kind.kind, ctx.object_namespace(kind))]
    elif not targets:
        ctx.fail("error: resource(s) were provided, but no name was specified")
    sets, removes = {}, []
    for c in changes:
        if "=" in c:
            k, v = c.split("=", 1)
            sets[k] = v
        else:
            removes.append(c[:-1])
    both = [k for k in removes if k in sets]
    if both:
        ctx.fail(f"error: can not both modify and remove the following {noun}(s) in the same "
                 f"command: {', '.join(both)}")
    for kind, name in targets:
        with ctx.txn() as st:
            obj = st.get(kind.kind, ctx.object_namespace(kind), name)
            if obj is None:
                ctx.fail(not_found(kind, name))
            current = dict(obj["metadata"].get(section) or {})
            if not ctx.flag("overwrite"):
                if section == "annotations":
                    clashes = [f"'{k}' already has a value ({current[k]})" for k in sets
                               if k in current and k != "kubernetes.io/change-cause"]
                    if clashes:
                        ctx.fail("error: --overwrite is false but found the following declared "
                                 "annotation(s): " + "; ".join(clashes))
                else:
                    clashes = [f"'{k}' already has a value ({current[k]}), and --overwrite is false"
                               for k in sets if k in current and current[k] != sets[k]]
                    if clashes:
                        ctx.fail("error: " + "\n".join(clashes))
            wanted_rv = ctx.flag("resource-version")
            if wanted_rv and wanted_rv != obj["metadata"]["resourceVersion"]:
                ctx.fail(f'Error from server (Conflict): Operation cannot be fulfilled on '
                         f'{kind.resource} "{name}": the object has been modified; please apply your '
                         "changes to the latest version and try again")
            new = dict(current)
            for k in removes:
                if k not in new and section == "labels":
                    ctx.out(f'label "{k}" not found.\n')
                new.pop(k, None)
            new.update(sets)
            changed = new != current
            if changed and not ctx.dry_run:
                obj["metadata"][section] = new
                st.put(obj)
        if section == "annotations":
            ctx.print_object_line(kind, name, "annotated")
        else:
            ctx.print_object_line(kind, name, "labeled" if changed else "not labeled")


def cmd_annotate(ctx):
    _metadata_edit(ctx, "annotations")


def cmd_label(ctx):
    _metadata_edit(ctx, "labels")


def cmd_delete(ctx):
    selector = ctx.flag("selector")
    if not ctx.args:
        ctx.fail("error: You must provide one or more resources by argument or filename.\n"
                 "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                 "   '<resource> <name>'\n   '<resource>'")
    if selector is not None or ctx.flag("all"):
        if "/" in ctx.args[0]:
            ctx.fail("error: name cannot be provided when a selector is specified")
        kind = ctx.kind(ctx.args[0])
        ctx.connect()
        with ctx.txn() as st:
            terms = parse_selector(selector)
            targets = [(kind, o["metadata"]["name"]) for o in st.list(kind.kind, ctx.object_namespace(kind))
                       if selector_matches(terms, o)]
        if not targets:
            ctx.inv.err("No resources found\n")
            return
    else:
        targets = ctx.target_objects()
        ctx.connect()
    errors = []
    for kind, name in targets:
        with ctx.txn() as st:
            if kind.kind == "Namespace" and name in UNDELETABLE_NAMESPACES:
                errors.append(f'Error from server (Forbidden): namespaces "{name}" is forbidden: '
                              "this namespace may not be deleted")
                continue
            if st.get(kind.kind, ctx.object_namespace(kind), name) is None:
                if not ctx.flag("ignore-not-found"):
                    errors.append(not_found(kind, name))
                continue
            if not ctx.dry_run:
                st.delete(kind.kind, ctx.object_namespace(kind), name)
        what = kind.qualified if kind.group else kind.singular
        suffix = f" ({ctx.dry_run})" if ctx.dry_run else ""
        ctx.out(f'{what} "{name}" deleted{suffix}\n')
    if errors:
        ctx.fail("\n".join(errors))


def cmd_version(ctx):
    settings = dict(fc.DEFAULT_SETTINGS)
    if ctx.inv.cluster is not None:
        settings = ctx.inv.read_settings()
    gv = settings["kubectl_version"]
    major, minor = (str(x) for x in (fc.parse_version(gv) or (1, 31, 0))[:2])
    client = {"major": major, "minor": minor, "gitVersion": gv,
              "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b", "gitTreeState": "clean",
              "buildDate": "2024-12-10T11:43:21Z", "goVersion": "go1.22.9", "compiler": "gc",
              "platform": "linux/amd64"}
    doc = {"clientVersion": client, "kustomizeVersion": "v5.4.2"}
    server_error = None
    if not ctx.flag("client"):
        if ctx.inv.cluster is None:
            server_error = CONNECTION_REFUSED
        else:
            sv = settings["kube_server_version"]
            smajor, sminor = (str(x) for x in (fc.parse_version(sv) or (1, 31, 0))[:2])
            doc["serverVersion"] = dict(client, major=smajor, minor=sminor, gitVersion=sv,
                                        goVersion="go1.22.5")
    output = ctx.flag("output", "")
    if output == "json":
        ctx.out(json.dumps(doc, indent=2) + "\n")
    elif output == "yaml":
        ctx.out(to_yaml(doc))
    elif output:
        ctx.fail("error: --output must be 'yaml' or 'json'")
    else:
        text = f"Client Version: {gv}\nKustomize Version: v5.4.2\n"
        if "serverVersion" in doc:
            text += f"Server Version: {doc['serverVersion']['gitVersion']}\n"
        ctx.out(text)
    if server_error:
        ctx.fail(server_error)


HELP = """kubectl controls the Kubernetes cluster manager.

 Find more information at: https://kubernetes.io/docs/reference/kubectl/

This is the everest-bootstrapd test fake; it supports:
  get, apply, create, replace, patch, scale, annotate, label, delete, version

Usage:
  kubectl [flags] [options]
"""


def main(argv):
    kubeconfig, explicit = fc.resolve_kubectl_kubeconfig(argv)
    inv = fc.Invocation("kubectl", argv, kubeconfig)

    def handler(inv):
        if inv.cluster is not None:
            inv.apply_faults(fc.positionals(argv, ARGV_VALUE_FLAGS))
        try:
            flags, args = parse_args(argv)
        except UsageError as e:
            verb = next((a for a in fc.positionals(argv, ARGV_VALUE_FLAGS)), "")
            where = f"kubectl {verb}" if verb in VERBS else "kubectl"
            inv.err(f"error: {e}\nSee '{where} --help' for usage.\n")
            raise Exit(1)
        if not args or args[0] == "help":
            inv.out(HELP)
            return 0
        if args[0] not in VERBS:
            inv.err(f'error: unknown command "{args[0]}" for "kubectl"\n')
            raise Exit(1)
        ctx = KubeCtx(inv, flags, args, explicit)
        return globals()["cmd_" + ctx.verb](ctx)

    return fc.run_tool(inv, handler)
