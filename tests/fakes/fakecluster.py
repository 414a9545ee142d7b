"""The simulated Everest cluster shared by the fake `everestctl` and `kubectl`.

The cluster is one JSON file, fake-cluster.json, in the directory of the
kubeconfig file the tool resolved (so it reaches the fakes through the only
channel a sandboxed daemon passes on: KUBECONFIG / --kubeconfig). Every read and
write holds an exclusive flock on fake-cluster.json.lock and writes are atomic
(temp file + os.replace), so any number of fake processes may run at once.
Every invocation appends one JSON line to fake-calls.jsonl (see Invocation).

Stdlib only; imported by the tool entry scripts and by fakectl.
"""

import contextlib
import fcntl
import json
import os
import signal
import sys
import time

SCHEMA = 1
STATE_NAME = "fake-cluster.json"
LOCK_NAME = STATE_NAME + ".lock"
CALL_LOG_NAME = "fake-calls.jsonl"

DEFAULT_SETTINGS = {
    "server_version": "v1.11.0",   # null = Everest not installed
    "cli_version": "v1.11.0",      # everestctl's own version (flags depend on it)
    "account_rmw_delay_ms": 20,    # gap in the accounts-Secret read-modify-write
    "namespace_add_delay_ms": 0,   # extra time `namespaces add` takes (outside the lock)
    "rbac_conflicts": 0,           # next N `kubectl replace` of everest-rbac lose a race
    "spinner_ansi": False,         # emit bubbletea-like spinner frames + ANSI in pretty mode
    "kubectl_version": "v1.31.4",
    "kube_server_version": "v1.31.0",
}

SYSTEM_NS = "everest-system"
MONITORING_NS = "everest-monitoring"
OLM_NS = "everest-olm"
CORE_NAMESPACES = (SYSTEM_NS, MONITORING_NS, OLM_NS)
KUBE_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "everest"
ACCOUNTS_SECRET = "everest-accounts"
ACCOUNTS_KEY = "users.yaml"
INSECURE_PASSWORD_PREFIX = "insecure-password/"
RBAC_CONFIGMAP = "everest-rbac"
DEFAULT_RBAC_POLICY = "g, admin, role:admin\n"

# Internal operator name -> (name shown by `namespaces list`, installed version).
OPERATORS = {
    "mongodb": ("psmdb", "v1.21.1"),
    "postgresql": ("postgresql", "v2.8.2"),
    "mysql": ("pxc", "v1.18.0"),
}


class Exit(Exception):
    """Raised to end a tool run with an exit code (output already written)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------
# Kinds


class Kind:
    """One API resource type the simulated cluster serves."""

    def __init__(self, kind, plural, group, version, namespaced, short=()):
        self.kind = kind
        self.plural = plural
        self.group = group
        self.version = version
        self.namespaced = namespaced
        self.singular = kind.lower()
        suffix = "." + group if group else ""
        self.api_version = f"{group}/{version}" if group else version
        # `kubectl apply` prints "<singular>.<group>/<name> created".
        self.qualified = self.singular + suffix
        # API errors name "<plural>.<group>", e.g. statefulsets.apps "x" not found.
        self.resource = plural + suffix
        names = {self.singular, plural, *short}
        if group:
            names |= {self.singular + suffix, plural + suffix,
                      f"{self.singular}.{version}.{group}", f"{plural}.{version}.{group}"}
        self.names = frozenset(names)


KINDS = [
    Kind("Namespace", "namespaces", "", "v1", False, ("ns",)),
    Kind("ConfigMap", "configmaps", "", "v1", True, ("cm",)),
    Kind("Secret", "secrets", "", "v1", True),
    Kind("ResourceQuota", "resourcequotas", "", "v1", True, ("quota",)),
    Kind("LimitRange", "limitranges", "", "v1", True, ("limits",)),
    Kind("StatefulSet", "statefulsets", "apps", "v1", True, ("sts",)),
    Kind("DatabaseCluster", "databaseclusters", "everest.percona.com", "v1alpha1", True,
         ("db", "dbc", "dbcluster")),
]
KIND_BY_KIND = {k.kind: k for k in KINDS}


def kind_by_name(word):
    """Resolves what a user may type (ns, sts, statefulset.apps, ...) to a Kind."""
    word = word.lower()
    for k in KINDS:
        if word in k.names:
            return k
    return None


# --------------------------------------------------------------------------
# Small helpers


def clone(value):
    """Deep copy of JSON data (cheaper to import than `copy`)."""
    return json.loads(json.dumps(value))


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_uid():
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def random_alnum(n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in os.urandom(n))


def parse_version(v):
    """'v1.11.0' / '1.6' / 'v1.12.0-rc1' -> (1, 11, 0); None when unparsable."""
    if not isinstance(v, str):
        return None
    core = v.strip().lstrip("vV").split("-")[0].split("+")[0]
    parts = core.split(".")
    try:
        nums = [int(p) for p in parts[:3]]
    except ValueError:
        return None
    while len(nums) < 3:
        nums.append(0)
    return tuple(nums)


def new_object(kind, name, namespace=None, **body):
    k = KIND_BY_KIND[kind]
    meta = {"name": name}
    if k.namespaced:
        meta["namespace"] = namespace
    obj = {"apiVersion": k.api_version, "kind": kind, "metadata": meta}
    obj.update(body)
    return obj


def namespace_object(name, labels=None):
    all_labels = {"kubernetes.io/metadata.name": name}
    all_labels.update(labels or {})
    obj = new_object("Namespace", name, spec={"finalizers": ["kubernetes"]},
                     status={"phase": "Active"})
    obj["metadata"]["labels"] = all_labels
    return obj


def is_managed(ns_obj):
    return (ns_obj or {}).get("metadata", {}).get("labels", {}).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


# --------------------------------------------------------------------------
# users.yaml of the everest-accounts Secret (the gopkg.in/yaml.v2 shape)


def dump_users_yaml(accounts):
    if not accounts:
        return "{}\n"
    lines = []
    for user in sorted(accounts):
        a = accounts[user]
        lines.append(f"{user}:")
        lines.append(f"  enabled: {'true' if a.get('enabled') else 'false'}")
        caps = a.get("capabilities") or []
        if caps:
            lines.append("  capabilities:")
            lines.extend(f"  - {c}" for c in caps)
        else:
            lines.append("  capabilities: []")
        lines.append(f"  passwordMtime: \"{a.get('passwordMtime', '')}\"")
        lines.append(f"  passwordHash: {json.dumps(a.get('passwordHash', ''))}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(v):
    v = v.strip()
    if v in ("true", "false"):
        return v == "true"
    if v == "[]":
        return []
    if v.startswith("[") and v.endswith("]"):
        return [_yaml_scalar(x) for x in v[1:-1].split(",") if x.strip()]
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return json.loads(v)
    if len(v) >= 2 and v[0] == v[-1] == "'":
        return v[1:-1].replace("''", "'")
    return v


def parse_users_yaml(text):
    """Parses what dump_users_yaml writes (and JSON); raises ValueError otherwise."""
    text = text.strip()
    if text in ("", "{}"):
        return {}
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("users.yaml is not a map")
        return data
    accounts, current, list_key = {}, None, None
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        line = raw.strip()
        if not raw.startswith(" ") and not raw.startswith("-"):
            if not line.endswith(":"):
                raise ValueError(f"unexpected line {raw!r}")
            current = accounts.setdefault(_yaml_scalar(line[:-1]), {})
            list_key = None
        elif current is None:
            raise ValueError(f"unexpected line {raw!r}")
        elif line.startswith("- "):
            if list_key is None:
                raise ValueError(f"unexpected list item {raw!r}")
            current[list_key].append(_yaml_scalar(line[2:]))
        else:
            key, _, value = line.partition(":")
            if value.strip():
                current[key.strip()] = _yaml_scalar(value)
                list_key = None
            else:
                current[key.strip()] = []
                list_key = key.strip()
    return accounts


def b64(text):
    import base64
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    import base64
    return base64.b64decode(text.encode()).decode()


# --------------------------------------------------------------------------
# State


class State:
    """The decoded state file plus typed access. `effect` is set by every cluster write."""

    def __init__(self, data):
        self.data = data
        self.effect = False

    # settings ------------------------------------------------------------
    def setting(self, key):
        return self.data.setdefault("settings", {}).get(key, DEFAULT_SETTINGS.get(key))

    def set_setting(self, key, value):
        self.data.setdefault("settings", {})[key] = value

    @property
    def faults(self):
        return self.data.setdefault("faults", [])

    # objects ---------------------------------------------------------------
    def _bucket(self, kind):
        return self.data.setdefault("objects", {}).setdefault(kind, {})

    @staticmethod
    def _key(kind, namespace, name):
        return f"{namespace}/{name}" if KIND_BY_KIND[kind].namespaced else name

    def get(self, kind, namespace, name):
        return self._bucket(kind).get(self._key(kind, namespace, name))

    def list(self, kind, namespace=None):
        items = self._bucket(kind).values()
        if namespace is not None and KIND_BY_KIND[kind].namespaced:
            items = [o for o in items if o["metadata"].get("namespace") == namespace]
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def put(self, obj, effect=True):
        """Creates or replaces obj; keeps uid/creationTimestamp, bumps resourceVersion."""
        kind = obj["kind"]
        meta = obj.setdefault("metadata", {})
        key = self._key(kind, meta.get("namespace"), meta["name"])
        old = self._bucket(kind).get(key)
        if old is None:
            meta["uid"] = new_uid()
            meta["creationTimestamp"] = now_rfc3339()
            meta["resourceVersion"] = "1"
        else:
            old_meta = old["metadata"]
            meta["uid"] = old_meta["uid"]
            meta["creationTimestamp"] = old_meta["creationTimestamp"]
            meta["resourceVersion"] = str(int(old_meta.get("resourceVersion", "0")) + 1)
        if kind == "Namespace":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        for empty in ("labels", "annotations"):
            if empty in meta and not meta[empty]:
                del meta[empty]
        self._bucket(kind)[key] = obj
        if effect:
            self.effect = True
        return obj

    def delete(self, kind, namespace, name):
        obj = self._bucket(kind).pop(self._key(kind, namespace, name), None)
        if obj is not None:
            self.effect = True
            if kind == "Namespace":
                self._delete_namespace_contents(name)
        return obj

    def _delete_namespace_contents(self, namespace):
        for k in KINDS:
            if k.namespaced:
                bucket = self._bucket(k.kind)
                for key in [key for key, o in bucket.items() if o["metadata"].get("namespace") == namespace]:
                    del bucket[key]
        self.data.setdefault("operators", {}).pop(namespace, None)

    def namespace(self, name):
        return self.get("Namespace", None, name)

    # operators (what the everest-db-namespace chart installed) ---------------
    def operators(self, namespace):
        return list(self.data.setdefault("operators", {}).get(namespace, []))

    def set_operators(self, namespace, operators):
        ops = sorted(set(operators))
        table = self.data.setdefault("operators", {})
        if table.get(namespace, []) != ops:
            self.effect = True
        if ops:
            table[namespace] = ops
        else:
            table.pop(namespace, None)

    # Everest core --------------------------------------------------------------
    def accounts_secret(self):
        return self.get("Secret", SYSTEM_NS, ACCOUNTS_SECRET)

    def install_core(self, version):
        """What the everest Helm chart creates (Secret/ConfigMap only when missing: keep policy)."""
        self.set_setting("server_version", version)
        for ns in CORE_NAMESPACES:
            if self.namespace(ns) is None:
                self.put(namespace_object(ns))
        if self.accounts_secret() is None:
            admin_password = random_alnum(64)
            admin = {"enabled": True, "capabilities": ["login"], "passwordMtime": now_rfc3339(),
                     "passwordHash": admin_password}
            secret = new_object("Secret", ACCOUNTS_SECRET, SYSTEM_NS, type="Opaque",
                                data={ACCOUNTS_KEY: b64(dump_users_yaml({"admin": admin}))})
            secret["metadata"]["annotations"] = {INSECURE_PASSWORD_PREFIX + "admin": "true",
                                                 "helm.sh/resource-policy": "keep"}
            self.put(secret)
        if self.get("ConfigMap", SYSTEM_NS, RBAC_CONFIGMAP) is None:
            cm = new_object("ConfigMap", RBAC_CONFIGMAP, SYSTEM_NS,
                            data={"enabled": "false", "policy.csv": DEFAULT_RBAC_POLICY})
            cm["metadata"]["annotations"] = {"helm.sh/resource-policy": "keep"}
            self.put(cm)

    def uninstall_core(self):
        self.set_setting("server_version", None)
        for ns in CORE_NAMESPACES:
            self.delete("Namespace", None, ns)


def get_accounts(secret):
    raw = (secret.get("data") or {}).get(ACCOUNTS_KEY)
    return parse_users_yaml(unb64(raw)) if raw else {}


def set_accounts(secret, accounts):
    secret.setdefault("data", {})[ACCOUNTS_KEY] = b64(dump_users_yaml(accounts))


def password_hash(password, salt):
    """PBKDF2-HMAC-SHA256, 4096 rounds, 32 bytes (as Everest), hex-encoded here."""
    import hashlib  # lazily: loading OpenSSL costs every other call ~7 ms
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 4096, 32).hex()


def initial_state():
    st = State({"schema": SCHEMA, "settings": dict(DEFAULT_SETTINGS), "faults": [],
                "objects": {}, "operators": {}})
    for ns in KUBE_NAMESPACES:
        st.put(namespace_object(ns))
    st.install_core(DEFAULT_SETTINGS["server_version"])
    return st.data


# --------------------------------------------------------------------------
# Files, locking, call log


class Cluster:
    """The files of one simulated cluster (all in the kubeconfig's directory)."""

    def __init__(self, kubeconfig_path):
        self.dir = os.path.dirname(os.path.abspath(kubeconfig_path))
        self.state_path = os.path.join(self.dir, STATE_NAME)
        self.lock_path = os.path.join(self.dir, LOCK_NAME)
        self.log_path = os.path.join(self.dir, CALL_LOG_NAME)

    @contextlib.contextmanager
    def locked(self):
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _load(self):
        try:
            with open(self.state_path, "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            data = initial_state()
            self._save(data)
            return data

    def _save(self, data):
        tmp = f"{self.state_path}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, self.state_path)

    @contextlib.contextmanager
    def transaction(self):
        """Yields the State under the lock; saves it on normal exit if it changed."""
        with self.locked():
            data = self._load()
            before = json.dumps(data, sort_keys=True)
            st = State(data)
            yield st
            if json.dumps(data, sort_keys=True) != before:
                self._save(data)

    def append_log(self, entry):
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self.locked():
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)

    def read_log(self):
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


# --------------------------------------------------------------------------
# Faults

FAULT_MODES = ("hang", "exit", "crash", "garbage", "bigoutput", "exit0error", "delay",
               "partial_namespace")


def positionals(argv, value_flags):
    """argv without flags; value_flags are the flags that take a separate value."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            out.extend(argv[i + 1:])
            break
        if a.startswith("-") and a != "-":
            if "=" not in a and a in value_flags:
                i += 1
        else:
            out.append(a)
        i += 1
    return out


def take_fault(st, tool, args, argv):
    """Finds the first rule matching this call, consumes one use of it, returns a copy."""
    faults = st.faults
    for i, rule in enumerate(faults):
        if rule.get("tool", tool) != tool:
            continue
        match = rule.get("match") or []
        if args[:len(match)] != match:
            continue
        if any(s not in argv for s in rule.get("argv_contains") or []):
            continue
        times = rule.get("times", 1)
        if times == 0:
            continue
        picked = clone(rule)
        if times > 0:
            if times == 1:
                del faults[i]
            else:
                rule["times"] = times - 1
        return picked
    return None


# --------------------------------------------------------------------------
# One tool invocation


class Invocation:
    """Output helpers, cluster access and the call-log line of one fake tool run."""

    def __init__(self, tool, argv, kubeconfig, mask=None):
        self.tool = tool
        self.argv = list(argv)
        self.kubeconfig = kubeconfig
        self.cluster = Cluster(kubeconfig) if kubeconfig and os.path.isfile(kubeconfig) else None
        self.effect = False
        self.fault = None
        self._mask = mask or (lambda argv: argv)
        self._logged = False
        self._t0 = time.time()

    # output -----------------------------------------------------------------
    @staticmethod
    def out(text):
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))

    @staticmethod
    def err(text):
        sys.stderr.buffer.write(text.encode("utf-8", "surrogateescape"))

    @staticmethod
    def flush():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    # state ------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self):
        with self.cluster.transaction() as st:
            yield st
            if st.effect:
                self.effect = True

    def read_settings(self):
        with self.cluster.transaction() as st:
            return {k: st.setting(k) for k in DEFAULT_SETTINGS}

    # call log ---------------------------------------------------------------
    def log_call(self, exit_code):
        if self._logged or self.cluster is None:
            return
        self._logged = True
        entry = {"ts": round(time.time(), 3), "tool": self.tool, "argv": self._mask(self.argv),
                 "exit": exit_code, "effect": self.effect, "pid": os.getpid(),
                 "duration_ms": int((time.time() - self._t0) * 1000)}
        if self.fault:
            entry["fault"] = self.fault.get("mode")
        self.cluster.append_log(entry)

    # faults -----------------------------------------------------------------
    def apply_faults(self, args):
        """Consumes a matching fault rule and acts on it; returns the settings. Returns
        normally when the call should go on (no fault, `delay`, or `partial_namespace`,
        which the tool handles itself)."""
        if self.cluster is None:
            return dict(DEFAULT_SETTINGS)
        with self.cluster.transaction() as st:
            rule = take_fault(st, self.tool, args, self.argv)
            settings = {k: st.setting(k) for k in DEFAULT_SETTINGS}
        if rule is None:
            return settings
        self.fault = rule
        mode = rule.get("mode")
        if mode == "delay":
            time.sleep(float(rule.get("seconds", 1)))
        elif mode == "exit":
            self.out(rule.get("stdout", ""))
            self.err(rule.get("stderr", ""))
            raise Exit(int(rule.get("exit_code", 1)))
        elif mode == "exit0error":
            self.out(rule.get("stdout", ""))
            self.err(rule.get("stderr", "error"))
            raise Exit(0)
        elif mode == "garbage":
            self._write_garbage(int(rule.get("bytes", 4096)))
            raise Exit(0)
        elif mode == "bigoutput":
            self._write_big(int(rule.get("bytes", 10 * 1024 * 1024)), rule.get("stream", "stdout"))
            raise Exit(0)
        elif mode == "crash":
            self.crash()
        elif mode != "partial_namespace":  # "hang" and anything unknown
            self.hang()
        return settings

    def hang(self):
        """Sleeps until killed (default signal dispositions: SIGTERM/SIGKILL end it)."""
        self.flush()
        self.log_call(None)
        while True:
            time.sleep(3600)

    def crash(self):
        import resource
        self.flush()
        self.log_call(-int(signal.SIGSEGV))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(5)
        os._exit(139)

    @staticmethod
    def _write_garbage(size):
        chunks = [b"\x1b[31m", b"\xff\xfe\xfd", b"\x1b[2K\r", b"\xc3\x28", b"\xe2\x82",
                  b"\x1b]0;title\x07", b"\x00", b"\xf0\x9f\x98", b"\x1b[?25l", b"ok \xe2\x9c\x85\n"]
        data = bytearray()
        rnd = os.urandom(size)
        i = 0
        while len(data) < size:
            data += chunks[rnd[i % len(rnd)] % len(chunks)]
            data += rnd[i:i + 7]
            i += 7
        sys.stdout.buffer.write(bytes(data[:size]))

    @staticmethod
    def _write_big(size, stream):
        target = (sys.stderr if stream == "stderr" else sys.stdout).buffer
        line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-bigoutput\n"
        block = line * (65536 // len(line) + 1)
        while size > 0:
            n = min(size, len(block))
            target.write(block[:n])
            size -= n
        target.flush()


def run_tool(inv, handler):
    """Runs handler(inv) with Go-like process semantics and writes the call-log line."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        code = handler(inv) or 0
    except Exit as e:
        code = e.code
    except Exception:  # a bug in the fake: fail loudly, like a Go panic
        import traceback
        inv.flush()
        inv.err("panic: fake " + inv.tool + " crashed\n\n" + traceback.format_exc())
        code = 2
    inv.flush()
    inv.log_call(code)
    return code


def resolve_kubectl_kubeconfig(argv):
    """kubectl: --kubeconfig PATH|=PATH, else first KUBECONFIG entry, else ~/.kube/config."""
    path = None
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a == "--kubeconfig" and i + 1 < len(argv):
            path = argv[i + 1]
        elif a.startswith("--kubeconfig="):
            path = a[len("--kubeconfig="):]
    if path:
        return os.path.expanduser(path), True
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(":") if p), "")
    if first:
        return os.path.expanduser(first), False
    return os.path.expanduser("~/.kube/config"), False
