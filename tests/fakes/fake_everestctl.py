"""Fake everestctl v1.11 on the simulated cluster (EVERESTCTL.md §1-3, §7).

Texts, exit codes, check order and cobra quirks follow the real CLI; the Helm
charts, OLM and the everest-server are replaced by direct edits of the state.
"""

import json
import os
import re
import time

import fakecluster as fc
from fakecluster import Exit
from fakecobra import (STRING, STRINGS, Command, Flag, cobra_error, execute, expand_home,
                       help_string, value_flag_names)

TTY_ERROR = "could not open a new TTY: open /dev/tty: no such device or address"
NOT_INSTALLED = "everest is not installed in the cluster"
UNSUPPORTED_VERSION = "operation not supported for this version of Everest"
SECRET_NOT_FOUND = f'secrets "{fc.ACCOUNTS_SECRET}" not found'
ACCOUNTS_CONFLICT = (f'Operation cannot be fulfilled on secrets "{fc.ACCOUNTS_SECRET}": the object has '
                     "been modified; please apply your changes to the latest version and try again")

USERNAME_RE = re.compile(r"[a-zA-Z0-9_]{3,}")
USERNAME_ERROR = ("username may contain only letters, numbers, underscores, and must be at least "
                  "3 characters long")
PASSWORD_RE = re.compile(r"[a-zA-Z0-9@*#$%^&+=!_-]{6,}")
PASSWORD_ERROR = ("password may contain only letters, numbers and specific special characters "
                  "(@*#$%^&+=!_-), and must be at least 6 characters long")

NAMESPACE_RE = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
NS_LIST_EMPTY = "namespace list is empty. Specify at least one namespace"
NS_RESERVED = "'{}' namespace is reserved for Everest internals. Please specify another namespace"
NS_NOT_RFC1035 = ("'namespace name' is not RFC 1035 compatible. The name should contain only lowercase "
                  "alphanumeric characters or '-', start with an alphabetic character, end with an "
                  "alphanumeric character")
NS_MANAGED = "'{}': namespace already exists and is managed by Everest"
NS_EXISTS = "'{}': namespace already exists. HINT: set '--take-ownership' flag to use existing namespaces"
NS_NOT_EXIST = "'{}': namespace does not exist"
NS_NOT_MANAGED = "'{}': namespace is not managed by Everest"
NS_HAS_DBS = ("cannot remove namespace with running database clusters. "
              "HINT: use --force to remove the namespace and all its resources")
NO_OPERATORS = "no operators selected for installation. Minimum one operator must be selected"
NO_INTERACTIVE_OPERATORS = "can't ask user for operators to install: interactive mode is disabled"
REMOVAL_WARNING = "⚠️  Removal of an installed operator is not supported. Proceeding without removal.\n"

# Namespaces `namespaces list -a` never shows (pkg/cli/namespaces/list.go).
LIST_SKIP_NAMESPACES = set(fc.KUBE_NAMESPACES[1:]) | set(fc.CORE_NAMESPACES) | {
    "gke-managed-cim", "gke-managed-system", "gke-managed-volumepopulator", "gmp-public", "gmp-system"}

# RBAC (pkg/rbac): resources and which of them are global (object is a plain name).
RBAC_RESOURCES = [
    "namespaces", "database-engines", "database-clusters", "database-cluster-credentials",
    "database-cluster-backups", "database-cluster-restores", "backup-storages",
    "monitoring-instances", "data-import-jobs", "enginefeatures/split-horizon-dns-configs",
    "pod-scheduling-policies", "load-balancer-configs", "data-importers"]
RBAC_GLOBAL_RESOURCES = {"namespaces", "pod-scheduling-policies", "load-balancer-configs",
                         "data-importers"}
RBAC_ACTIONS = ["create", "read", "update", "delete", "*"]
# Go regexp `^[/*-_:a-zA-Z0-9]+$`: `*-_` is the range 0x2A-0x5F (Python reads it the same way).
RBAC_TERM_RE = re.compile(r"[/*-_:a-zA-Z0-9]+")
RBAC_ADMIN_ROLE = "role:admin"


def fake_commit(version):
    import hashlib
    return hashlib.sha1(f"everestctl {version}".encode()).hexdigest()


# --------------------------------------------------------------------------
# Per-command context


class Ctx:
    """Everything a command handler needs: parsed flags, output modes, the cluster."""

    def __init__(self, inv, settings, cmd, parsed):
        self.inv = inv
        self.settings = settings
        self.cmd = cmd
        self.p = parsed
        self.args = parsed.args
        self.pretty = not ({"verbose", "json"} & parsed.changed)
        self.kubeconfig = expand_home(parsed["kubeconfig"])
        if os.path.abspath(self.kubeconfig) != os.path.abspath(inv.kubeconfig or ""):
            inv.kubeconfig = self.kubeconfig  # pre-scan and pflag disagreed: pflag wins
            inv.cluster = fc.Cluster(self.kubeconfig) if os.path.isfile(self.kubeconfig) else None

    def __getitem__(self, name):
        return self.p[name]

    def changed(self, name):
        return name in self.p.changed

    # output -----------------------------------------------------------------
    def out(self, text):
        self.inv.out(text)

    def success(self, msg):
        """output.Success printed with Fprintln: '✅ msg' + blank line (pretty only)."""
        if self.pretty:
            self.out(f"✅ {msg}\n\n")

    def step(self, desc):
        """One finished spinner step."""
        if not self.pretty:
            return
        if self.settings.get("spinner_ansi"):
            self.out("\x1b[?25l")
            for frame in "⣾⣽⣻":
                self.out(f"\r\x1b[2K{frame} {desc}\n\n\x1b[2m  Esc/Ctrl+c quit\x1b[0m\x1b[2A")
            self.out("\r\x1b[2K\x1b[J")
        self.out(f"✅  {desc}\n")
        if self.settings.get("spinner_ansi"):
            self.out("\x1b[?25h")

    def log(self, level, msg, caller="cli/cli.go:42", component_logger=True, **fields):
        """A zap log line on stderr. Component loggers are no-ops in pretty mode; the global
        logger (pkg/logger) always writes: production config (console, or JSON with --json),
        or the development config with -v (debug level, capitalised levels, stack traces)."""
        verbose = self.p["verbose"]
        if (component_logger and self.pretty) or (level == "debug" and not verbose):
            return
        now = time.time()
        if verbose:
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (now % 1 * 1000)
            lvl, time_key = level.upper(), "ts"
        else:
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
            lvl, time_key = level, "T"
        stack = "main.main\n\t/go/src/github.com/percona/everest/cmd/cli/main.go:37"
        if self.p["json"]:
            entry = {"level": lvl, time_key: ts, "logger": "everestctl", "caller": caller, "msg": msg}
            entry.update(fields)
            if verbose and level in ("warn", "error"):
                entry["stacktrace"] = stack
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        else:
            line = f"{ts}\t{lvl}\teverestctl\t{caller}\t{msg}"
            if fields:
                line += "\t" + json.dumps(fields, ensure_ascii=False)
            line += "\n"
            if verbose and level in ("warn", "error"):
                line += stack + "\n"
        self.inv.err(line)

    def fail(self, msg):
        """output.PrintError, then os.Exit(1)."""
        if self.pretty:
            self.inv.err(f"❌ {msg}\n\n")
        else:
            self.log("error", msg, caller="output/command.go:33", component_logger=False)
        raise Exit(1)

    # cluster ----------------------------------------------------------------
    def connect(self, logged=False):
        """kubernetes.New: the kubeconfig file must exist. logged: the command reports the
        error through the global logger instead of output.PrintError."""
        if self.inv.cluster is None:
            msg = f"open {self.kubeconfig}: no such file or directory\ncould not read kubeconfig file"
            if logged:
                self.log("error", msg, caller="rbac/validate.go:81", component_logger=False)
                raise Exit(1)
            self.fail(msg)

    def txn(self):
        return self.inv.transaction()

    def check_installed(self):
        """cliutils.CheckHelmInstallation."""
        with self.txn() as st:
            version = st.setting("server_version")
        if not version:
            self.fail(NOT_INSTALLED)
        parsed = fc.parse_version(version)
        if parsed is not None and parsed < (1, 4, 0):
            self.fail(UNSUPPORTED_VERSION)
        return version


# --------------------------------------------------------------------------
# accounts


def _prompted_value(ctx, flag, validate, error):
    value = ctx[flag]
    if not value:
        ctx.fail(TTY_ERROR)  # tui.NewInput/NewPassword without a controlling terminal
    if not validate.fullmatch(value):
        ctx.fail(error)
    return value


def _accounts_rmw(ctx, mutate, missing_error=SECRET_NOT_FOUND):
    """The unguarded read-modify-write of everest-accounts (openeverest#2833): read, wait,
    write; a concurrent writer in between makes the write fail with a conflict."""
    with ctx.txn() as st:
        secret = st.accounts_secret()
        if secret is None:
            ctx.fail(missing_error)
        version = secret["metadata"]["resourceVersion"]
        accounts = fc.get_accounts(secret)
        annotations = dict(secret["metadata"].get("annotations") or {})
        ns = st.namespace(fc.SYSTEM_NS)
        salt = ns["metadata"]["uid"] if ns else ""
        mutate(accounts, annotations, salt)
    time.sleep(float(ctx.settings.get("account_rmw_delay_ms") or 0) / 1000.0)
    with ctx.txn() as st:
        secret = st.accounts_secret()
        if secret is None:
            ctx.fail(SECRET_NOT_FOUND)
        if secret["metadata"]["resourceVersion"] != version:
            ctx.fail(ACCOUNTS_CONFLICT)
        fc.set_accounts(secret, accounts)
        secret["metadata"]["annotations"] = annotations
        st.put(secret)


def run_accounts_create(ctx):
    user = _prompted_value(ctx, "username", USERNAME_RE, USERNAME_ERROR)
    password = _prompted_value(ctx, "password", PASSWORD_RE, PASSWORD_ERROR)
    ctx.connect()
    ctx.log("info", f"Creating user '{user}'", caller="cli/accounts.go:95", component="accounts")

    def mutate(accounts, annotations, salt):
        if user in accounts:
            ctx.fail("user already exists")
        accounts[user] = {"enabled": True, "capabilities": ["login"],
                          "passwordMtime": fc.now_rfc3339(),
                          "passwordHash": fc.password_hash(password, salt)}

    _accounts_rmw(ctx, mutate, SECRET_NOT_FOUND + "\nfailed to check if account already exists")
    ctx.log("info", f"User '{user}' has been created succesfully", caller="cli/accounts.go:101",
            component="accounts")
    ctx.success(f"User '{user}' has been created successfully")


def run_accounts_delete(ctx):
    user = _prompted_value(ctx, "username", USERNAME_RE, USERNAME_ERROR)
    ctx.connect()
    ctx.log("info", f"Deleting user '{user}'", caller="cli/accounts.go:115", component="accounts")

    def mutate(accounts, annotations, salt):
        if user not in accounts:
            ctx.fail("account not found")
        del accounts[user]
        annotations.pop(fc.INSECURE_PASSWORD_PREFIX + user, None)

    _accounts_rmw(ctx, mutate)
    ctx.log("info", f"User '{user}' has been deleted successfully", caller="cli/accounts.go:120",
            component="accounts")
    ctx.success(f"User '{user}' has been deleted successfully")


def run_accounts_set_password(ctx):
    user = _prompted_value(ctx, "username", USERNAME_RE, USERNAME_ERROR)
    password = _prompted_value(ctx, "new-password", PASSWORD_RE, PASSWORD_ERROR)
    ctx.connect()
    ctx.log("info", f"Setting a new password for user '{user}'", caller="cli/accounts.go:140",
            component="accounts")

    def mutate(accounts, annotations, salt):
        if user not in accounts:
            ctx.fail("account not found")
        accounts[user]["passwordHash"] = fc.password_hash(password, salt)
        accounts[user]["passwordMtime"] = fc.now_rfc3339()
        annotations.pop(fc.INSECURE_PASSWORD_PREFIX + user, None)

    _accounts_rmw(ctx, mutate)
    ctx.log("info", f"Password for user '{user}' has been set successfully",
            caller="cli/accounts.go:146", component="accounts")
    ctx.success(f"Password for user '{user}' has been set successfully")


def go_sprint(value):
    """fmt.Sprint of the values accounts list prints."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    return str(value)


def rodaine_table(headers, rows, no_headers=False):
    """github.com/rodaine/table v1.3.0: width = max(cells, header) + 2, every cell padded."""
    rows = [(list(r) + [""] * len(headers))[:len(headers)] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = []
    if not no_headers:
        lines.append("".join(h.ljust(w + 2) for h, w in zip(headers, widths)).upper())
    lines.extend("".join(c.ljust(w + 2) for c, w in zip(r, widths)) for r in rows)
    return "".join(line + "\n" for line in lines)


def run_accounts_list(ctx):
    ctx.connect()
    with ctx.txn() as st:
        secret = st.accounts_secret()
        if secret is None:
            ctx.fail(SECRET_NOT_FOUND)
        accounts = fc.get_accounts(secret)
    import random  # here, not at the top: no other command pays for the import

    headers = ctx["columns"] or ["user", "capabilities", "enabled"]
    users = list(accounts)
    random.shuffle(users)  # Go map iteration order
    rows = []
    for user in users:
        a = accounts[user]
        row = []
        for h in headers:
            if h == "user":
                row.append(user)
            elif h == "capabilities":
                row.append(go_sprint(list(a.get("capabilities") or [])))
            elif h == "enabled":
                row.append(go_sprint(bool(a.get("enabled"))))
        rows.append(row)
    ctx.out(rodaine_table(headers, rows, ctx["no-headers"]))


def run_accounts_initial_admin_password(ctx):
    ctx.connect()
    with ctx.txn() as st:
        secret = st.accounts_secret()
        if secret is None:
            ctx.fail(SECRET_NOT_FOUND)
        annotations = secret["metadata"].get("annotations") or {}
        if annotations.get(fc.INSECURE_PASSWORD_PREFIX + "admin") != "true":
            ctx.fail("cannot retrieve admin password after it has been updated")
        admin = fc.get_accounts(secret).get("admin")
    if admin is None:
        ctx.fail("account not found")
    ctx.out(str(admin.get("passwordHash", "")) + "\n")


def run_accounts_reset_jwt_keys(ctx):
    ctx.connect()
    ctx.log("info", "Creating/Updating JWT keys and restarting Everest.", component="accounts")
    with ctx.txn() as st:
        if st.namespace(fc.SYSTEM_NS) is None:
            # c.l.Error(err); os.Exit(1) with a component logger: silent in pretty mode
            ctx.log("error", f'namespaces "{fc.SYSTEM_NS}" not found', component="accounts")
            raise Exit(1)
        secret = st.get("Secret", fc.SYSTEM_NS, "everest-jwt") or fc.new_object(
            "Secret", "everest-jwt", fc.SYSTEM_NS, type="Opaque")
        secret["data"] = {"id_rsa": fc.b64(fc.random_alnum(64)), "id_rsa.pub": fc.b64(fc.random_alnum(32))}
        st.put(secret)
    ctx.log("info", "JWT keys have been created/updated successfully", component="accounts")
    ctx.success("JWT keys have been created/updated successfully")


# --------------------------------------------------------------------------
# namespaces


def parse_namespace_names(arg):
    names = []
    for part in arg.split(","):
        part = part.strip()
        if part and part not in names:
            names.append(part)
    return names


def validate_namespace_names(ctx, names):
    if not names:
        ctx.fail(NS_LIST_EMPTY)
    for ns in names:
        if ns in fc.CORE_NAMESPACES:
            ctx.fail(NS_RESERVED.format(ns))
        if not NAMESPACE_RE.fullmatch(ns):
            ctx.fail(NS_NOT_RFC1035)


OPERATOR_FLAGS = ("operator.mongodb", "operator.postgresql", "operator.xtradb-cluster",
                  "operator.mysql")


def operator_flags(settings):
    flags = [Flag("operator.mongodb", default=True, usage="Install MongoDB operator"),
             Flag("operator.postgresql", default=True, usage="Install PostgreSQL operator")]
    if (fc.parse_version(settings.get("cli_version")) or (0, 0, 0)) >= (1, 6, 0):
        flags.append(Flag("operator.xtradb-cluster", default=True,
                          usage="Install XtraDB Cluster operator",
                          deprecated="please use --operator.mysql instead"))
        flags.append(Flag("operator.mysql", default=True, usage="Install MySQL operator"))
    else:
        flags.append(Flag("operator.xtradb-cluster", default=True,
                          usage="Install XtraDB Cluster operator"))
    return flags


def selected_operators(ctx):
    """The operator flags' values; --operator.mysql and --operator.xtradb-cluster share
    one variable, so the one given last wins."""
    pxc = True
    for name in ctx.p.set_order:
        if name in ("operator.mysql", "operator.xtradb-cluster"):
            pxc = ctx[name]
    ops = []
    if ctx["operator.mongodb"]:
        ops.append("mongodb")
    if ctx["operator.postgresql"]:
        ops.append("postgresql")
    if pxc:
        ops.append("mysql")
    return ops


def any_operator_flag(ctx):
    return any(ctx.changed(f) for f in OPERATOR_FLAGS)


def _sleep_ms(ms):
    if ms:
        time.sleep(float(ms) / 1000.0)


def run_namespaces_add(ctx):
    names = parse_namespace_names(ctx.args[0])
    validate_namespace_names(ctx, names)
    ctx.connect()
    with ctx.txn() as st:
        for ns in names:
            obj = st.namespace(ns)
            if obj is not None and fc.is_managed(obj):
                ctx.fail(NS_MANAGED.format(ns))
            if obj is not None and not ctx["take-ownership"]:
                ctx.fail(NS_EXISTS.format(ns))
    if not any_operator_flag(ctx) and not ctx["skip-wizard"]:
        ctx.fail(TTY_ERROR)  # the multi-select operator prompt
    operators = selected_operators(ctx)
    if not operators:
        ctx.fail(NO_OPERATORS)
    ctx.check_installed()
    if ctx.inv.fault and ctx.inv.fault.get("mode") == "partial_namespace":
        _partial_namespace(ctx, names)
    for ns in names:
        _sleep_ms(ctx.settings.get("namespace_add_delay_ms"))
        ctx.log("info", f"Installing DB namespace Helm chart in namespace {ns}",
                caller="namespaces/add.go:300", component="namespace-adder")
        with ctx.txn() as st:
            obj = st.namespace(ns) or fc.namespace_object(ns)
            obj["metadata"].setdefault("labels", {})[fc.MANAGED_BY_LABEL] = fc.MANAGED_BY_VALUE
            st.put(obj)
            st.set_operators(ns, operators)
        ctx.step(f"Provisioning database namespace '{ns}'")


def _partial_namespace(ctx, names):
    """Fault: Helm created the namespace, the hook that labels it never ran, then hang."""
    with ctx.txn() as st:
        if st.namespace(names[0]) is None:
            st.put(fc.namespace_object(names[0]))
    ctx.inv.hang()


def run_namespaces_update(ctx):
    names = parse_namespace_names(ctx.args[0])
    validate_namespace_names(ctx, names)
    ctx.connect()
    with ctx.txn() as st:
        for ns in names:
            # validateNamespaceOwnership checks "managed" first: a missing namespace is
            # reported as not managed.
            obj = st.namespace(ns)
            if obj is None or not fc.is_managed(obj):
                ctx.fail(NS_NOT_MANAGED.format(ns))
    if not any_operator_flag(ctx):
        ctx.fail(NO_INTERACTIVE_OPERATORS if ctx["skip-wizard"] else TTY_ERROR)
    requested = selected_operators(ctx)
    if not requested:
        ctx.fail(NO_OPERATORS)
    ctx.check_installed()
    with ctx.txn() as st:
        removal = any(op not in requested for ns in names for op in st.operators(ns))
    if removal:
        ctx.out(REMOVAL_WARNING)
        ctx.log("warn", REMOVAL_WARNING[4:].strip(), component="namespace-adder")
    for ns in names:
        with ctx.txn() as st:
            st.set_operators(ns, st.operators(ns) + requested)
        ctx.step(f"Updating database namespace '{ns}'")


def run_namespaces_remove(ctx):
    names = parse_namespace_names(ctx.args[0])
    validate_namespace_names(ctx, names)
    ctx.connect()
    with ctx.txn() as st:
        for ns in names:
            obj = st.namespace(ns)
            if obj is None:
                ctx.fail(NS_NOT_EXIST.format(ns))
            if not fc.is_managed(obj):
                ctx.fail(NS_NOT_MANAGED.format(ns))
            if not ctx["force"] and st.list("DatabaseCluster", ns):
                ctx.fail(NS_HAS_DBS)
    ctx.check_installed()
    for ns in names:
        _remove_namespace(ctx, ns, ctx["keep-namespace"])


def _remove_namespace(ctx, ns, keep):
    with ctx.txn() as st:
        for db in st.list("DatabaseCluster", ns):
            st.delete("DatabaseCluster", ns, db["metadata"]["name"])
    ctx.step(f"Deleting database clusters in namespace '{ns}'")
    ctx.step(f"Deleting backup storages in namespace '{ns}'")
    ctx.step(f"Deleting monitoring instances in namespace '{ns}'")
    with ctx.txn() as st:
        if keep:
            st.set_operators(ns, [])
            obj = st.namespace(ns)
            if obj is not None and fc.is_managed(obj):
                del obj["metadata"]["labels"][fc.MANAGED_BY_LABEL]
                st.put(obj)
        else:
            st.delete("Namespace", None, ns)
    ctx.step(f"Deleting resources from namespace '{ns}'" if keep
             else f"Deleting database namespace '{ns}'")


def run_namespaces_list(ctx):
    ctx.connect()
    ctx.check_installed()
    rows = []
    with ctx.txn() as st:
        for obj in st.list("Namespace"):
            name = obj["metadata"]["name"]
            if name in LIST_SKIP_NAMESPACES or (not ctx["all"] and not fc.is_managed(obj)):
                continue
            ops = []
            if fc.is_managed(obj):
                ops = sorted(f"{fc.OPERATORS[o][0]}({fc.OPERATORS[o][1]})" for o in st.operators(name))
            rows.append([name, go_sprint(bool(ops)), ", ".join(ops)])
    ctx.out(rodaine_table(["namespace", "managed", "operators"], rows))


# --------------------------------------------------------------------------
# settings rbac


class PolicyError(Exception):
    pass


def _go_csv_fields(line):
    """encoding/csv with TrimLeadingSpace (one record)."""
    fields, i, n = [], 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i < n and line[i] == '"':
            i += 1
            value = []
            while True:
                if i >= n:
                    raise PolicyError(f'parse error on line 1, column {i + 1}: extraneous or missing " '
                                      "in quoted-field")
                if line[i] == '"':
                    if i + 1 < n and line[i + 1] == '"':
                        value.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                value.append(line[i])
                i += 1
            if i < n and line[i] != ",":
                raise PolicyError(f'parse error on line 1, column {i + 1}: extraneous or missing " '
                                  "in quoted-field")
            fields.append("".join(value))
        else:
            end = line.find(",", i)
            field = line[i:] if end < 0 else line[i:end]
            if '"' in field:
                raise PolicyError(f'parse error on line 1, column {i + field.index(chr(34)) + 1}: '
                                  'bare " in non-quoted-field')
            fields.append(field)
            i = n if end < 0 else end
        if i >= n:
            return fields
        i += 1  # the comma


def load_policy(text):
    """The casbin adapter + Everest's LoadPolicyLine: (p_rules, g_rules) or PolicyError."""
    p_rules, g_rules = [], []
    for line in text.split("\n"):
        if line == "" or line.startswith("#"):
            continue
        tokens = _go_csv_fields(line[:-1] if line.endswith("\r") else line)
        if len(tokens) < 2:
            raise PolicyError(f"invalid policy line '{line}'")
        key, rule = tokens[0], tokens[1:]
        section = key[:1]
        if section not in ("p", "g"):
            raise PolicyError(f"missing required section {section}")
        if key not in ("p", "g"):
            raise PolicyError(f"missing required definition {key} in section {section}")
        if key == "p":
            if len(rule) != 4:
                raise PolicyError(f"invalid policy size: expected 4, got {len(rule)}, "
                                  f"pvals: [{' '.join(rule)}]")
            if rule not in p_rules:
                p_rules.append(rule)
        else:
            if len(rule) < 2:
                raise PolicyError("grouping policy elements do not meet role definition")
            if rule[:2] not in g_rules:
                g_rules.append(rule[:2])
    return p_rules, g_rules


def validate_policy(text):
    """pkg/rbac validatePolicy: None when valid, else the error text (with newlines)."""
    try:
        p_rules, g_rules = load_policy(text)
    except PolicyError as e:
        return f"policy syntax error\n{e}"
    for rule in p_rules:
        for term in rule:
            if not RBAC_TERM_RE.fullmatch(term):
                return f"policy syntax error\ninvalid policy term '{term}'"
    roles = {g[1] for g in g_rules}
    for rule in p_rules:
        sub = rule[0]
        if sub.startswith("role:") and sub != RBAC_ADMIN_ROLE and sub not in roles:
            return f"policy syntax error\nrole '{sub}' does not exist"
    for rule in p_rules:
        if rule[1] != "*" and rule[1] not in RBAC_RESOURCES:
            return f"policy syntax error\nunknown resource name '{rule[1]}'"
    return None


def policy_from_file(text):
    """A bare CSV, or a ConfigMap (YAML or JSON) holding data.policy.csv."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(text)
            policy = (obj.get("data") or {}).get("policy.csv")
            if isinstance(policy, str):
                return policy
        except (ValueError, AttributeError):
            pass
    lines = text.split("\n")
    if not any(re.match(r"data:\s*$", line) for line in lines):
        return text
    for i, line in enumerate(lines):
        m = re.match(r"(\s+)(?:policy\.csv|\"policy\.csv\"|'policy\.csv'):\s*(.*)$", line)
        if not m:
            continue
        indent, rest = len(m.group(1)), m.group(2).strip()
        if rest[:1] in ("|", ">"):
            block = []
            for follow in lines[i + 1:]:
                if follow.strip() and len(follow) - len(follow.lstrip(" ")) <= indent:
                    break
                block.append(follow)
            while block and not block[-1].strip():
                block.pop()
            body_indent = min((len(b) - len(b.lstrip(" ")) for b in block if b.strip()), default=0)
            body = "\n".join(b[body_indent:] for b in block)
            chomp = rest[1:2]
            if chomp == "-":
                return body
            if rest[0] == ">":
                body = re.sub(r"(?<!\n)\n(?!\n)", " ", body)
            return body + "\n" if body else body
        if rest.startswith('"'):
            return json.loads(rest)
        if rest.startswith("'"):
            return rest[1:-1].replace("''", "'")
        return rest
    return text


def _read_policy(ctx, path):
    """(policy text, enforcement enabled) from --policy-file or the live ConfigMap."""
    if path:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                return policy_from_file(f.read()), True
        except OSError as e:
            raise PolicyError(f"open {path}: {e.strerror.lower() if e.strerror else e}")
    with ctx.txn() as st:
        cm = st.get("ConfigMap", fc.SYSTEM_NS, fc.RBAC_CONFIGMAP)
    if cm is None:
        raise PolicyError(f'configmaps "{fc.RBAC_CONFIGMAP}" not found')
    data = cm.get("data") or {}
    return data.get("policy.csv", ""), data.get("enabled") == "true"


def run_rbac_validate(ctx):
    path = ctx["policy-file"]
    if not path:
        ctx.connect(logged=True)
    try:
        text, _ = _read_policy(ctx, path)
        error = validate_policy(text)
    except PolicyError as e:
        error = f"policy syntax error\n{e}"
    if error:
        ctx.out("❌ Invalid\n" + " - ".join(error.split("\n")) + "\n")
        raise Exit(1)
    ctx.out("✅ Valid\n\n")


def glob_match(name, pattern):
    """doublestar.Match: `*` stays within a path segment, `**` crosses `/`."""
    regex, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern[i:i + 2] == "**":
                regex.append(".*")
                i += 2
                continue
            regex.append("[^/]*")
        elif c == "?":
            regex.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                return False
            body = pattern[i + 1:end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            regex.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                return False
            regex.append("(?:" + "|".join(re.escape(a) for a in pattern[i + 1:end].split(",")) + ")")
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            regex.append(re.escape(pattern[i]))
        else:
            regex.append(re.escape(c))
        i += 1
    try:
        return re.fullmatch("".join(regex), name, re.S) is not None
    except re.error:
        return False


def rbac_enforce(p_rules, g_rules, subject, action, resource, obj):
    subjects, frontier = {subject}, [subject]
    while frontier:  # roles of the subject, transitively (g, <member>, <role>)
        member = frontier.pop()
        for g_member, role in g_rules:
            if g_member == member and role not in subjects:
                subjects.add(role)
                frontier.append(role)
    admin_rules = [[RBAC_ADMIN_ROLE, r, "*", "*" if r in RBAC_GLOBAL_RESOURCES else "*/*"]
                   for r in RBAC_RESOURCES]
    for psub, pres, pact, pobj in admin_rules + p_rules:
        if (psub in subjects and glob_match(resource, pres) and glob_match(action, pact)
                and glob_match(obj, pobj)):
            return True
    return False


def run_rbac_can(ctx):
    subject, action, resource, obj = ctx.args
    if action not in RBAC_ACTIONS:
        cobra_error(ctx.cmd, f"invalid action '{action}'. Supported actions: {','.join(RBAC_ACTIONS)}")
    path = ctx["policy-file"]
    if not path:
        ctx.connect()
    try:
        text, enabled = _read_policy(ctx, path)
        p_rules, g_rules = load_policy(text)
    except PolicyError as e:
        ctx.fail(str(e))
    if obj in ("*", "all"):
        obj = "" if resource in RBAC_GLOBAL_RESOURCES else "/"
    allowed = (not enabled) or rbac_enforce(p_rules, g_rules, subject, action, resource, obj)
    ctx.out("Yes\n" if allowed else "No\n")


def run_oidc_configure(ctx):
    issuer, client_id = ctx["issuer-url"], ctx["client-id"]
    if not issuer or not client_id:
        ctx.fail(TTY_ERROR)
    ctx.connect()
    ctx.check_installed()
    with ctx.txn() as st:
        cm = st.get("ConfigMap", fc.SYSTEM_NS, "everest-settings") or fc.new_object(
            "ConfigMap", "everest-settings", fc.SYSTEM_NS, data={})
        cm.setdefault("data", {})["oidc.config"] = json.dumps(
            {"issuerUrl": issuer, "clientId": client_id, "scopes": ctx["scopes"]})
        st.put(cm)
    ctx.success("OIDC provider configured, Everest will be restarted")


# --------------------------------------------------------------------------
# version, install, upgrade, uninstall


def run_version(ctx):
    version = ctx.settings.get("cli_version") or "v0.0.0"
    info = {"projectName": "everestctl", "version": version, "fullCommit": fake_commit(version)}
    if not ctx["client-only"]:
        if ctx.inv.cluster is None:
            cobra_error(ctx.cmd, f"open {ctx.kubeconfig}: no such file or directory\n"
                                 "could not read kubeconfig file")
        with ctx.txn() as st:
            info["serverVersion"] = st.setting("server_version") or "[NOT INSTALLED]"
    if ctx["json"]:
        ctx.out(json.dumps(info, separators=(",", ":")) + "\n")
        return
    text = (f"ProjectName: {info['projectName']}\nVersion: {info['version']}\n"
            f"FullCommit: {info['fullCommit']}")
    if "serverVersion" in info:
        text += f"\nServerVersion: {info['serverVersion']}"
    ctx.out(text + "\n")


def _normalize_version(v):
    v = v.strip()
    return v if v.startswith("v") else "v" + v


def run_install(ctx):
    names, operators = [], []
    if not ctx["skip-db-namespace"]:
        if not ctx.changed("namespaces") and not ctx["skip-wizard"]:
            ctx.fail(TTY_ERROR)  # "Provide database namespaces to be managed by Everest"
        names = parse_namespace_names(ctx["namespaces"])
        validate_namespace_names(ctx, names)
        if not any_operator_flag(ctx) and not ctx["skip-wizard"]:
            ctx.fail(TTY_ERROR)  # "Which operators do you want to install?"
        operators = selected_operators(ctx)
        if not operators:
            ctx.fail(NO_OPERATORS)
    ctx.connect()
    with ctx.txn() as st:
        installed = st.setting("server_version")
        if installed:
            ctx.fail(f"everest is already installed. Version: {installed}")
        for ns in names:
            obj = st.namespace(ns)
            if obj is not None and fc.is_managed(obj):
                ctx.fail(NS_MANAGED.format(ns))
    version = _normalize_version(ctx["version"] or ctx.settings.get("cli_version") or "v1.11.0")
    if ctx.pretty:
        ctx.out(f"ℹ️ Installing Everest version {version.lstrip('v')}\n\n")
    with ctx.txn() as st:
        st.install_core(version)
    for desc in ("Installing Everest Helm chart", "Ensuring Everest API deployment is ready",
                 "Ensuring Everest operator deployment is ready",
                 "Ensuring Everest CatalogSource is ready"):
        ctx.step(desc)
    for ns in names:
        with ctx.txn() as st:
            obj = st.namespace(ns) or fc.namespace_object(ns)
            obj["metadata"].setdefault("labels", {})[fc.MANAGED_BY_LABEL] = fc.MANAGED_BY_VALUE
            st.put(obj)
            st.set_operators(ns, operators)
        ctx.step(f"Provisioning database namespace '{ns}'")
    if ctx.pretty:
        ctx.out(f"\nThank you for installing Everest ({version})!\n\n"
                "Retrieve the initial admin password with: everestctl accounts initial-admin-password\n")


def run_upgrade(ctx):
    ctx.connect()
    current = ctx.check_installed()
    target = _normalize_version(ctx["version"] or ctx.settings.get("cli_version") or current)
    cur, tgt = fc.parse_version(current), fc.parse_version(target)
    if tgt is None or cur is None:
        ctx.fail(f"invalid version {target}")
    if tgt == cur:
        ctx.fail("no update available")
    if tgt < cur:
        ctx.fail("downgrade not allowed")
    if tgt[0] != cur[0] or tgt[1] > cur[1] + 1:
        ctx.fail("cannot upgrade by more than one minor version")
    if ctx["dry-run"]:
        ctx.success(f"Upgrade to {target} is possible (dry run)")
        return
    if ctx.pretty:
        ctx.out(f"ℹ️ Upgrading Everest to version {target.lstrip('v')}\n\n")
    with ctx.txn() as st:
        st.set_setting("server_version", target)
        st.effect = True
    for desc in ("Upgrading Everest Helm chart", "Ensuring Everest API deployment is ready",
                 "Ensuring Everest operator deployment is ready"):
        ctx.step(desc)
    if ctx.pretty:
        ctx.out(f"\nEverest has been upgraded to version {target}\n")


def run_uninstall(ctx):
    ctx.connect()
    ctx.check_installed()
    if not ctx["assume-yes"]:
        ctx.out("\nYou are about to uninstall Everest from the Kubernetes cluster.\n"
                "This will uninstall Everest and all its components from the cluster.\n\n")
        ctx.fail(TTY_ERROR)  # "Are you sure you want to uninstall Everest?"
    with ctx.txn() as st:
        db_namespaces = [o["metadata"]["name"] for o in st.list("Namespace") if fc.is_managed(o)
                         and o["metadata"]["name"] not in fc.CORE_NAMESPACES]
        dbs_exist = any(st.list("DatabaseCluster", ns) for ns in db_namespaces)
    if dbs_exist and not ctx["force"]:
        ctx.fail(TTY_ERROR)  # "There are still database clusters managed by Everest. Delete them?"
    for ns in db_namespaces:
        _remove_namespace(ctx, ns, keep=False)
    ctx.step("Uninstalling Everest Helm chart")
    with ctx.txn() as st:
        st.uninstall_core()
    ctx.step(f"Deleting namespace '{fc.MONITORING_NS}'")
    ctx.step(f"Deleting namespace '{fc.SYSTEM_NS}'")
    ctx.step("Deleting Everest CRDs")
    ctx.log("info", "Everest has been uninstalled successfully")
    if ctx.pretty:
        ctx.out("Everest has been uninstalled successfully\n")


def run_completion(ctx):
    shell = ctx.cmd.name
    ctx.out(f"# {shell} completion for everestctl (fake)\n")


def run_help(ctx):
    from fakecobra import find_command
    root = ctx.cmd.parent
    target, rest = find_command(root, ctx.args)
    if rest:
        ctx.out(f"Unknown help topic {json.dumps(rest)}\n")
        target = root
    ctx.out(help_string(target))


def run_noop(ctx):
    return 0


# --------------------------------------------------------------------------
# The command tree


def helm_flags(with_values=True):
    flags = [Flag("chart-dir", kind=STRING, hidden=True,
                  usage="Path to the chart directory. If not set, the chart will be downloaded "
                        "from the repository"),
             Flag("helm.repository", kind=STRING,
                  default="https://percona.github.io/percona-helm-charts/",
                  usage="Helm chart repository to download the Everest charts from")]
    if with_values:
        flags += [Flag("helm.set", kind=STRINGS,
                       usage="Set helm values on the command line (can specify multiple values "
                             "with commas: key1=val1,key2=val2)"),
                  Flag("helm.values", "f", kind=STRINGS,
                       usage="Specify values in a YAML file or a URL (can specify multiple)")]
    return flags


def build_tree(settings):
    kubeconfig_default = os.environ.get("KUBECONFIG") or "~/.kube/config"
    root = Command("everestctl <command> [flags]", short="CLI for managing Percona Everest",
                   long="CLI for managing Percona Everest", persistent_flags=[
                       Flag("verbose", "v", usage="Enable Verbose mode"),
                       Flag("json", usage="Set output type to JSON"),
                       Flag("kubeconfig", "k", STRING, default=kubeconfig_default,
                            usage="Path to a kubeconfig. If not set, will use KUBECONFIG env var")])
    no_args, one_arg = ("none",), ("exact", 1)
    ops = operator_flags(settings)
    ns_common = [Flag("skip-wizard", usage="Skip installation wizard"),
                 Flag("skip-env-detection",
                      usage="Skip detecting Kubernetes environment where Everest is installed"),
                 Flag("disable-telemetry", usage="Disable telemetry", hidden=True)]

    install = Command(
        "install [flags]", short="Install Percona Everest using Helm",
        long="Install Percona Everest using Helm", args=no_args, run=run_install,
        example="everestctl install --namespaces dev,staging,prod --operator.mongodb=true "
                "--operator.postgresql=true --operator.mysql=true --skip-wizard",
        flags=[Flag("namespaces", kind=STRING, default="everest",
                    usage="Comma-separated namespaces list Percona Everest can manage"),
               Flag("skip-db-namespace", usage="Skip creating a database namespace with install"),
               Flag("version", kind=STRING, usage="Everest version to install. By default the "
                                                   "latest version is installed"),
               Flag("version-metadata-url", kind=STRING, default="https://check.percona.com",
                    usage="URL to retrieve version metadata information from")]
        + ns_common + ops + helm_flags())
    install.mutually_exclusive.append(("namespaces", "skip-db-namespace"))
    root.add(install)
    root.add(Command(
        "upgrade [flags]", short="Upgrade Percona Everest using Helm",
        long="Upgrade Percona Everest using Helm", args=no_args, run=run_upgrade,
        flags=[Flag("version", kind=STRING, usage="Everest version to upgrade to"),
               Flag("dry-run", usage="If set, only executes the pre-upgrade checks"),
               Flag("version-metadata-url", kind=STRING, default="https://check.percona.com",
                    usage="URL to retrieve version metadata information from"),
               Flag("skip-env-detection",
                    usage="Skip detecting Kubernetes environment where Everest is installed"),
               Flag("in-cluster", usage="Use in-cluster Kubernetes config", hidden=True),
               Flag("helm.reuse-values", usage="Reuse the last release's values"),
               Flag("helm.reset-values", usage="Reset the values to the ones built into the chart"),
               Flag("helm.reset-then-reuse-values",
                    usage="Reset the values to the ones built into the chart, apply the last "
                          "release's values and merge in any overrides")] + helm_flags()))
    root.add(Command(
        "uninstall [flags]", short="Uninstall Percona Everest", long="Uninstall Percona Everest",
        args=no_args, run=run_uninstall,
        flags=[Flag("assume-yes", "y", usage="Assume yes to all questions"),
               Flag("force", "f", usage="Force removal in case there are database clusters running"),
               Flag("skip-env-detection",
                    usage="Skip detecting Kubernetes environment where Everest is installed")]))
    root.add(Command(
        "version [flags]", short="Print Everest components version info",
        long="Print Everest components version info", args=no_args, run=run_version,
        flags=[Flag("client-only", usage="Print client version only")]))

    username = Flag("username", "u", STRING, usage="Username of the account")
    accounts = root.add(Command("accounts <command> [flags]", short="Manage Everest accounts",
                                long="Manage Everest accounts", args=one_arg, run=run_noop))
    accounts.add(Command(
        "create [flags]", short="Create a new Everest user account",
        long="Create a new Everest user account", args=no_args, run=run_accounts_create,
        example="everestctl accounts create --username user1 --password $USER_PASS",
        flags=[username, Flag("password", "p", STRING, usage="Password of the account")]))
    accounts.add(Command(
        "list [flags]", short="List all Everest user accounts", long="List all Everest user accounts",
        args=no_args, run=run_accounts_list, example="everestctl accounts list",
        flags=[Flag("no-headers", usage="If set, hide table headers"),
               Flag("columns", kind=STRINGS,
                    usage="Comma-separated list of column names to display. "
                          "Supported columns: user, capabilities, enabled.")]))
    accounts.add(Command(
        "delete [flags]", short="Delete an existing Everest user account",
        long="Delete an existing Everest user account", args=no_args, run=run_accounts_delete,
        example="everestctl accounts delete --username user1", flags=[username]))
    accounts.add(Command(
        "set-password [flags]", short="Set a new password for an existing Everest user account",
        long="Set a new password for an existing Everest user account", args=no_args,
        run=run_accounts_set_password,
        example="everestctl accounts set-password --username user1 --new-password $USER_PASS",
        flags=[username, Flag("new-password", "p", STRING, usage="New password for the account")]))
    accounts.add(Command(
        "initial-admin-password [flags]", short="Get the initial admin password for Everest",
        long="Get the initial admin password for Everest", args=no_args,
        run=run_accounts_initial_admin_password))
    accounts.add(Command(
        "reset-jwt-keys [flags]", short="Reset the JWT keys used for Everest user authentication",
        long="Reset the JWT keys used for Everest user authentication", args=no_args,
        run=run_accounts_reset_jwt_keys))

    namespaces = root.add(Command("namespaces <command> [flags]",
                                  short="Manage Everest database namespaces",
                                  long="Manage Everest database namespaces", args=one_arg,
                                  run=run_noop))
    namespaces.add(Command(
        "add <namespaces> [flags]", short="Add a new namespace and make managed by Everest",
        long="Add a new namespace and make managed by Everest", args=one_arg, run=run_namespaces_add,
        example="everestctl namespaces add ns-1,ns-2 --skip-wizard --operator.mysql=true "
                "--operator.postgresql=false --operator.mongodb=false",
        flags=ns_common + [Flag("take-ownership", usage="If the specified namespace already exists, "
                                                        "take ownership of it")]
        + helm_flags() + ops))
    namespaces.add(Command(
        "update <namespaces> [flags] ",
        short="Add database operator to existing namespace managed by Everest",
        long="Add database operator to existing namespace managed by Everest", args=one_arg,
        run=run_namespaces_update,
        example="everestctl namespaces update ns-1,ns-2 --skip-wizard --operator.mysql=true "
                "--operator.postgresql=false --operator.mongodb=false",
        flags=ns_common + helm_flags() + ops))
    namespaces.add(Command(
        "remove <namespaces> [flags]", short="Remove an existing namespace",
        long="Remove an existing namespace", args=one_arg, run=run_namespaces_remove,
        example="everestctl namespaces remove ns-1,ns-2 --keep-namespace",
        flags=[Flag("keep-namespace", usage="If set, preserves the Kubernetes namespace but "
                                            "removes all resources managed by Everest"),
               Flag("force", usage="If set, forcefully deletes database clusters in the namespace "
                                   "(if any)")]))
    namespaces.add(Command(
        "list [flags]", short="List an existing namespaces", long="List an existing namespaces",
        args=no_args, run=run_namespaces_list, example="everestctl namespaces list --all",
        flags=[Flag("all", "a", usage="If set, returns all namespaces in kubernetes cluster "
                                      "(excludes system and Everest core namespaces)")]))

    settings_cmd = root.add(Command("settings <command> [flags]", short="Configure Everest settings",
                                    long="Configure Everest settings", args=one_arg, run=run_noop))
    oidc = settings_cmd.add(Command("oidc <command> [flags]", short="Manage settings related to OIDC",
                                    long="Manage settings related to OIDC"))
    oidc.add(Command(
        "configure [flags]", short="Configure OIDC settings", long="Configure OIDC settings",
        args=no_args, run=run_oidc_configure,
        flags=[Flag("issuer-url", kind=STRING, usage="OIDC issuer url"),
               Flag("client-id", kind=STRING, usage="ID of the client OIDC app"),
               Flag("scopes", kind=STRINGS, default=["openid", "profile", "email", "groups"],
                    usage="Scopes to request from the OIDC provider")]))
    rbac = settings_cmd.add(Command("rbac <command> [flags]", short="Manage RBAC settings",
                                    long="Manage RBAC settings"))
    policy_file = Flag("policy-file", kind=STRING,
                       usage="Path to the policy file to use, otherwise use policy from Everest "
                             "deployment.")
    rbac.add(Command("validate [flags]", short="Validate RBAC settings",
                     long="Validate RBAC settings", run=run_rbac_validate,
                     example="everestctl settings rbac validate --policy-file <file_path>",
                     flags=[policy_file]))
    rbac.add(Command("can <subject> <action> <resource> <subresource> [flags]",
                     short="Test RBAC policy", long="Test RBAC policy", args=("exact", 4),
                     run=run_rbac_can,
                     example="everestctl settings rbac can alice read database-clusters all",
                     flags=[policy_file]))

    completion = root.add(Command("completion [command]",
                                  short="Generate the autocompletion script for the specified shell",
                                  long="Generate the autocompletion script for everestctl for the "
                                       "specified shell."))
    for shell in ("bash", "fish", "powershell", "zsh"):
        completion.add(Command(shell, short=f"Generate the autocompletion script for {shell}",
                               args=no_args, run=run_completion,
                               flags=[Flag("no-descriptions",
                                           usage="disable completion descriptions")]))
    root.add(Command("help [command]", short="Help about any command",
                     long="Help provides help for any command in the application.\nSimply type "
                          "everestctl help [path to command] for full details.", run=run_help))
    return root


# --------------------------------------------------------------------------
# Entry point


def _all_flags(cmd):
    flags = list(cmd.all_flags())
    for c in cmd.children:
        flags.extend(_all_flags(c))
    return flags


VALUE_FLAGS = value_flag_names(_all_flags(build_tree(fc.DEFAULT_SETTINGS)))
SECRET_FLAGS = ("-p", "--password", "--new-password")


def mask_passwords(argv):
    """argv for the call log, with -p / --password / --new-password values hidden."""
    out, hide_next = [], False
    for a in argv:
        if hide_next:
            out.append("********")
            hide_next = False
        elif a in SECRET_FLAGS:
            out.append(a)
            hide_next = True
        elif any(a.startswith(f + "=") for f in SECRET_FLAGS):
            out.append(a.split("=", 1)[0] + "=********")
        elif a.startswith("-p") and not a.startswith("--") and len(a) > 2:
            out.append("-p********")
        else:
            out.append(a)
    return out


def prescan_kubeconfig(argv):
    """The -k/--kubeconfig value pflag would see, else $KUBECONFIG, else ~/.kube/config."""
    path, i = None, 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            break
        if a in ("-k", "--kubeconfig"):
            if i < len(argv):
                path = argv[i]
                i += 1
        elif a.startswith("--kubeconfig="):
            path = a.split("=", 1)[1]
        elif a.startswith("-k") and not a.startswith("--"):
            path = a[2:].lstrip("=")
        elif "=" not in a and a in VALUE_FLAGS:
            i += 1
    if path is None:
        path = os.environ.get("KUBECONFIG") or "~/.kube/config"
    return expand_home(path)


def main(argv):
    inv = fc.Invocation("everestctl", argv, prescan_kubeconfig(argv), mask=mask_passwords)

    def handler(inv):
        settings = dict(fc.DEFAULT_SETTINGS)
        if inv.cluster is not None:
            settings = inv.apply_faults(fc.positionals(argv, VALUE_FLAGS))
        root = build_tree(settings)
        return execute(root, argv, lambda cmd, parsed: Ctx(inv, settings, cmd, parsed))

    return fc.run_tool(inv, handler)
