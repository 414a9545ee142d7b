#!/usr/bin/python3
"""Self-test of the fake everestctl / kubectl / fakectl (plain script, no pytest).

Runs the fakes as subprocesses, each test on its own fresh simulated cluster in a
temp dir, with the minimal environment everest-bootstrapd gives its children.
Prints "N passed, M failed" and exits non-zero on any failure.
"""

import base64
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import fakecluster  # noqa: E402
TTY = "❌ could not open a new TTY: open /dev/tty: no such device or address\n\n"
CONFLICT = ('❌ Operation cannot be fulfilled on secrets "everest-accounts": the object has been '
            "modified; please apply your changes to the latest version and try again\n\n")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Result:
    def __init__(self, rc, out, err, raw_out=b""):
        self.rc, self.out, self.err, self.raw_out = rc, out, err, raw_out

    def __repr__(self):
        return f"rc={self.rc} out={self.out[:600]!r} err={self.err[:600]!r}"


class Fail(AssertionError):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise Fail(msg)


def eq(actual, expected, what=""):
    if actual != expected:
        raise Fail(f"{what}\n  expected: {expected!r}\n  actual:   {actual!r}")


class Env:
    """One fresh simulated cluster (kubeconfig in <tmp>/kube/config)."""

    def __init__(self, root):
        self.tmp = tempfile.mkdtemp(prefix="c-", dir=root)
        self.kc = os.path.join(self.tmp, "kube", "config")
        self.env = {"PATH": f"{HERE}:/usr/bin:/bin", "HOME": self.tmp, "KUBECONFIG": self.kc,
                    "LANG": "C.UTF-8", "TZ": "UTC"}
        self.ok("fakectl", "init")

    def cmd(self, tool, *args):
        return [os.path.join(HERE, tool), *args]

    def run(self, tool, *args, stdin=None, env=None, timeout=30):
        p = subprocess.run(self.cmd(tool, *args), input=stdin.encode() if stdin is not None else None,
                           stdin=subprocess.DEVNULL if stdin is None else None,
                           capture_output=True, env=env or self.env, timeout=timeout)
        return Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                      p.stderr.decode("utf-8", "replace"), p.stdout)

    def ok(self, tool, *args, **kw):
        r = self.run(tool, *args, **kw)
        check(r.rc == 0, f"{tool} {' '.join(args)} failed: {r}")
        return r

    def bad(self, tool, *args, **kw):
        r = self.run(tool, *args, **kw)
        check(r.rc == 1, f"{tool} {' '.join(args)} should exit 1: {r}")
        return r

    # Read the files directly (atomic replace / appends): fewer processes than `fakectl dump`.
    def state(self):
        with open(os.path.join(self.tmp, "kube", "fake-cluster.json"), encoding="utf-8") as f:
            return json.load(f)

    def accounts(self):
        secret = self.state()["objects"]["Secret"]["everest-system/everest-accounts"]
        return fakecluster.get_accounts(secret)

    def calls(self):
        path = os.path.join(self.tmp, "kube", "fake-calls.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def kget(self, *args):
        return json.loads(self.ok("kubectl", "get", *args, "-o", "json").out)

    def set(self, key, value):
        self.ok("fakectl", "set", key, json.dumps(value))

    def fault(self, **rule):
        self.ok("fakectl", "fault-add", json.dumps(rule))

    def no_kubeconfig_env(self, path="/nonexistent/kube/config"):
        return dict(self.env, KUBECONFIG=path)


def table(headers, rows):
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["".join(h.upper().ljust(w + 2) for h, w in zip(headers, widths))]
    lines += ["".join(c.ljust(w + 2) for c, w in zip(r, widths)) for r in rows]
    return lines


# --------------------------------------------------------------------------
# state and kubeconfig resolution


@test
def initial_state(e):
    st = json.loads(e.ok("fakectl", "dump").out)
    eq(st, e.state(), "fakectl dump prints the state file")
    eq(sorted(st), ["faults", "objects", "operators", "schema", "settings"], "top-level keys")
    eq(st["settings"]["server_version"], "v1.11.0")
    eq(st["settings"]["cli_version"], "v1.11.0")
    eq(st["settings"]["account_rmw_delay_ms"], 20)
    eq(st["settings"]["namespace_add_delay_ms"], 0)
    eq(st["settings"]["rbac_conflicts"], 0)
    eq(st["faults"], [])
    eq(sorted(st["objects"]["Namespace"]),
       sorted(["default", "kube-system", "kube-public", "kube-node-lease", "everest-system",
               "everest-monitoring", "everest-olm"]))
    for ns in st["objects"]["Namespace"].values():
        check("app.kubernetes.io/managed-by" not in ns["metadata"].get("labels", {}), "unmanaged")
    cm = st["objects"]["ConfigMap"]["everest-system/everest-rbac"]
    eq(cm["data"], {"enabled": "false", "policy.csv": "g, admin, role:admin\n"})
    eq(cm["metadata"]["resourceVersion"], "1")
    secret = st["objects"]["Secret"]["everest-system/everest-accounts"]
    check(secret["metadata"]["resourceVersion"].isdigit(), "secret resourceVersion")
    admin = json.loads(e.ok("fakectl", "accounts").out)["admin"]
    eq((admin["enabled"], admin["capabilities"]), (True, ["login"]))
    e.ok("kubectl", "get", "ns")
    eq([c["argv"] for c in map(json.loads, e.ok("fakectl", "calls").out.splitlines())], [["get", "ns"]])
    for name in ("fake-cluster.json", "fake-cluster.json.lock"):
        check(os.path.exists(os.path.join(e.tmp, "kube", name)), name)


@test
def kubeconfig_resolution(e):
    missing = e.no_kubeconfig_env()
    r = e.bad("everestctl", "accounts", "list", env=missing)
    eq((r.out, r.err), ("", "❌ open /nonexistent/kube/config: no such file or directory\n"
                            "could not read kubeconfig file\n\n"))
    r = e.bad("kubectl", "get", "ns", env=missing)
    eq(r.err, "The connection to the server localhost:8080 was refused - did you specify the right "
              "host or port?\n")
    r = e.bad("kubectl", "--kubeconfig", "/nonexistent/x", "get", "ns")
    eq(r.err, "error: stat /nonexistent/x: no such file or directory\n")
    # -k / --kubeconfig beat $KUBECONFIG; kubectl takes the first entry of a list
    e.ok("everestctl", "-k", e.kc, "accounts", "list", env=missing)
    e.ok("everestctl", "accounts", "list", f"--kubeconfig={e.kc}", env=missing)
    e.ok("kubectl", "get", "ns", f"--kubeconfig={e.kc}", env=missing)
    e.ok("kubectl", "get", "ns", env=dict(e.env, KUBECONFIG=f"{e.kc}:/other"))
    # default ~/.kube/config
    home = dict(e.env)
    del home["KUBECONFIG"]
    e.bad("everestctl", "accounts", "list", env=home)
    os.makedirs(os.path.join(e.tmp, ".kube"))
    shutil.copy(e.kc, os.path.join(e.tmp, ".kube", "config"))
    r = e.ok("everestctl", "accounts", "list", env=home)
    check("admin" in r.out, r)
    e.ok("kubectl", "get", "ns", "default", env=home)
    check(os.path.exists(os.path.join(e.tmp, ".kube", "fake-cluster.json")), "state next to ~/.kube/config")
    # a symlink to the script works
    link = os.path.join(e.tmp, "everestctl")
    os.symlink(os.path.join(HERE, "everestctl"), link)
    p = subprocess.run([link, "version", "--client-only"], capture_output=True, env=e.env)
    eq(p.returncode, 0, p.stderr)


@test
def version(e):
    missing = e.no_kubeconfig_env()
    r = e.ok("everestctl", "version", "--client-only", env=missing)
    lines = r.out.splitlines()
    eq(lines[:2], ["ProjectName: everestctl", "Version: v1.11.0"])
    check(len(lines) == 3 and lines[2].startswith("FullCommit: ") and len(lines[2]) == 52, r)
    r = e.ok("everestctl", "version", "--client-only", "--json", env=missing)
    doc = json.loads(r.out)
    eq(list(doc), ["projectName", "version", "fullCommit"])
    eq(r.out, json.dumps(doc, separators=(",", ":")) + "\n")
    r = e.ok("everestctl", "version")
    eq(r.out.splitlines()[3], "ServerVersion: v1.11.0")
    eq(json.loads(e.ok("everestctl", "version", "--json").out)["serverVersion"], "v1.11.0")
    r = e.bad("everestctl", "version", env=missing)
    check(r.err.startswith("Error: open /nonexistent/kube/config: no such file or directory\n"), r)
    e.set("server_version", None)
    eq(e.ok("everestctl", "version").out.splitlines()[3], "ServerVersion: [NOT INSTALLED]")
    e.set("cli_version", "v1.6.0")
    eq(json.loads(e.ok("everestctl", "version", "--json").out)["version"], "v1.6.0")


# --------------------------------------------------------------------------
# accounts


@test
def accounts_create(e):
    r = e.ok("everestctl", "accounts", "create", "-u", "bob", "-p", "S3cret-pw")
    eq((r.out, r.err), ("✅ User 'bob' has been created successfully\n\n", ""))
    r = e.bad("everestctl", "accounts", "create", "--username=bob", "--password=S3cret-pw")
    eq((r.out, r.err), ("", "❌ user already exists\n\n"))
    bob = e.accounts()["bob"]
    eq((bob["enabled"], bob["capabilities"]), (True, ["login"]))
    check(bob["passwordHash"] and bob["passwordHash"] != "S3cret-pw" and bob["passwordMtime"], bob)
    creates = [c for c in e.calls() if c["argv"][:2] == ["accounts", "create"]]
    eq([(c["exit"], c["effect"]) for c in creates], [(0, True), (1, False)])
    eq(creates[0]["argv"], ["accounts", "create", "-u", "bob", "-p", "********"])
    eq(creates[1]["argv"], ["accounts", "create", "--username=bob", "--password=********"])
    for name in ("fake-calls.jsonl", "fake-cluster.json"):
        with open(os.path.join(e.tmp, "kube", name), encoding="utf-8") as f:
            check("S3cret-pw" not in f.read(), f"plain password in {name}")


@test
def accounts_validation_is_offline(e):
    missing = e.no_kubeconfig_env()
    user_err = ("❌ username may contain only letters, numbers, underscores, and must be at least 3 "
                "characters long\n\n")
    pw_err = ("❌ password may contain only letters, numbers and specific special characters "
              "(@*#$%^&+=!_-), and must be at least 6 characters long\n\n")
    eq(e.bad("everestctl", "accounts", "create", "-u", "team-a", "-p", "secret1", env=missing).err, user_err)
    eq(e.bad("everestctl", "accounts", "create", "-u", "ab", "-p", "secret1", env=missing).err, user_err)
    eq(e.bad("everestctl", "accounts", "create", "-u", "bob", "-p", "short", env=missing).err, pw_err)
    eq(e.bad("everestctl", "accounts", "create", "-u", "bob", "-p", "no spaces", env=missing).err, pw_err)
    eq(e.bad("everestctl", "accounts", "create", "-u", "bob", env=missing).err, TTY)
    eq(e.bad("everestctl", "accounts", "create", "-p", "secret1", env=missing).err, TTY)
    eq(e.bad("everestctl", "accounts", "set-password", "-u", "bob").err, TTY)
    eq(e.bad("everestctl", "accounts", "delete").err, TTY)
    eq(e.bad("everestctl", "accounts", "delete", "-u", "a.b").err, user_err)
    e.ok("everestctl", "accounts", "create", "-u", "Mixed_Case_1", "-p", "a@*#$%^&+=!_-")


@test
def accounts_when_not_installed(e):
    e.set("server_version", None)
    r = e.bad("everestctl", "accounts", "create", "-u", "bob", "-p", "secret1")
    eq(r.err, '❌ secrets "everest-accounts" not found\nfailed to check if account already exists\n\n')
    eq(e.bad("everestctl", "accounts", "list").err, '❌ secrets "everest-accounts" not found\n\n')
    eq(e.bad("everestctl", "namespaces", "add", "t1", "--skip-wizard").err,
       "❌ everest is not installed in the cluster\n\n")
    e.set("server_version", "v1.11.0")
    e.ok("everestctl", "accounts", "create", "-u", "bob", "-p", "secret1")


@test
def accounts_delete_set_password_admin(e):
    eq(e.bad("everestctl", "accounts", "delete", "-u", "carol").err, "❌ account not found\n\n")
    eq(e.bad("everestctl", "accounts", "set-password", "-u", "carol", "-p", "secret1").err,
       "❌ account not found\n\n")
    e.ok("everestctl", "accounts", "create", "-u", "carol", "-p", "secret1")
    before = e.accounts()["carol"]
    time.sleep(1.05)
    r = e.ok("everestctl", "accounts", "set-password", "-u", "carol", "--new-password", "secret2")
    eq(r.out, "✅ Password for user 'carol' has been set successfully\n\n")
    after = e.accounts()["carol"]
    check(after["passwordHash"] != before["passwordHash"], "hash changed")
    check(after["passwordMtime"] > before["passwordMtime"], "mtime moved")
    eq(e.ok("everestctl", "accounts", "delete", "-u", "carol").out,
       "✅ User 'carol' has been deleted successfully\n\n")
    check("carol" not in e.accounts(), "deleted")
    initial = e.ok("everestctl", "accounts", "initial-admin-password").out
    check(len(initial) == 65 and initial.endswith("\n"), repr(initial))
    e.ok("everestctl", "accounts", "set-password", "-u", "admin", "-p", "newadmin1")
    eq(e.bad("everestctl", "accounts", "initial-admin-password").err,
       "❌ cannot retrieve admin password after it has been updated\n\n")


@test
def accounts_list_layout(e):
    for user in ("alice", "bob_long_name"):
        e.ok("everestctl", "accounts", "create", "-u", user, "-p", "secret1")
    # make bob_long_name disabled with two capabilities, through the Secret like an operator would
    secret = e.kget("secret", "everest-accounts", "-n", "everest-system")
    users = base64.b64decode(secret["data"]["users.yaml"]).decode()
    users = users.replace("bob_long_name:\n  enabled: true\n  capabilities:\n  - login\n",
                          "bob_long_name:\n  enabled: false\n  capabilities:\n  - login\n  - apiKey\n")
    patch = {"data": {"users.yaml": base64.b64encode(users.encode()).decode()}}
    e.ok("kubectl", "patch", "secret", "everest-accounts", "-n", "everest-system", "-p", json.dumps(patch))
    rows = [["admin", "[login]", "true"], ["alice", "[login]", "true"],
            ["bob_long_name", "[login apiKey]", "false"]]
    expected = table(["user", "capabilities", "enabled"], rows)
    out = e.ok("everestctl", "accounts", "list").out
    check(out.endswith("\n"), "trailing newline")
    lines = out.split("\n")[:-1]
    eq(lines[0], expected[0], "header")
    eq(lines[0], "USER           CAPABILITIES    ENABLED  ")
    eq(sorted(lines[1:]), sorted(expected[1:]), "rows")
    out = e.ok("everestctl", "accounts", "list", "--no-headers", "--columns", "user").out
    eq(sorted(out.split("\n")[:-1]), ["admin          ", "alice          ", "bob_long_name  "])
    out = e.ok("everestctl", "accounts", "list", "--columns=user,bogus,enabled", "--no-headers=false").out
    lines = out.split("\n")[:-1]
    eq(lines[0], "USER           BOGUS  ENABLED  ")
    check("alice          true            " in lines, lines)  # 'true' shifted under BOGUS
    out = e.ok("everestctl", "accounts", "list", "--json").out  # --json only changes logging
    check(out.startswith("USER "), out)


@test
def accounts_list_random_order(e):
    for user in ("user_a", "user_b", "user_c", "user_d"):
        e.ok("everestctl", "accounts", "create", "-u", user, "-p", "secret1")
    orders = set()
    for _ in range(12):
        orders.add(tuple(line.split()[0] for line in
                         e.ok("everestctl", "accounts", "list", "--no-headers").out.splitlines()))
        if len(orders) > 1:
            break
    check(len(orders) > 1, f"row order never changed: {orders}")


@test
def accounts_race(e):
    """Two account writes at once: one hits the Secret conflict (openeverest#2833)."""
    e.set("account_rmw_delay_ms", 1500)
    procs = [subprocess.Popen(e.cmd("everestctl", "accounts", "create", "-u", u, "-p", "secret1"),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=e.env) for u in ("racer_a", "racer_b")]
    results = [(p.wait(timeout=30), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    eq(sorted(rc for rc, _, _ in results), [0, 1], results)
    eq([err for rc, _, err in results if rc == 1], [CONFLICT])
    eq(len([u for u in e.accounts() if u.startswith("racer_")]), 1)
    creates = [c for c in e.calls() if c["argv"][:2] == ["accounts", "create"]]
    eq(sorted(c["effect"] for c in creates), [False, True])
    # one at a time they never conflict
    e.set("account_rmw_delay_ms", 20)
    for u in ("serial_a", "serial_b", "serial_c"):
        e.ok("everestctl", "accounts", "create", "-u", u, "-p", "secret1")
    e.ok("everestctl", "accounts", "delete", "-u", "serial_b")
    # a write by anyone else between read and write conflicts too
    e.set("account_rmw_delay_ms", 2500)
    p = subprocess.Popen(e.cmd("everestctl", "accounts", "delete", "-u", "serial_a"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e.env)
    time.sleep(1.0)
    e.ok("kubectl", "annotate", "secret", "everest-accounts", "-n", "everest-system", "touched=1")
    out, err = p.communicate(timeout=30)
    eq((p.returncode, err.decode()), (1, CONFLICT))


# --------------------------------------------------------------------------
# cobra behaviour


@test
def cobra_quirks(e):
    r = e.bad("everestctl", "accounts")
    check(r.err.startswith("Error: accepts 1 arg(s), received 0\nUsage:\n"
                           "  everestctl accounts <command> [flags]\n  everestctl accounts [command]\n"), r)
    eq(r.out, "")
    r = e.ok("everestctl", "accounts", "lst")
    eq((r.out, r.err), ("", ""))
    r = e.bad("everestctl", "accounts", "create", "--x", "-u", "bob", "-p", "secret1")
    check(r.err.startswith("Error: unknown flag: --x\nUsage:\n  everestctl accounts create [flags]"), r)
    check(r.err.endswith("\n\nError: unknown flag: --x\n"), r)
    eq(r.out, "")
    r = e.bad("everestctl", "accounts", "create", "-x")
    check(r.err.startswith("Error: unknown shorthand flag: 'x' in -x\n"), r)
    r = e.bad("everestctl", "accounts", "create", "-u")
    check(r.err.startswith("Error: flag needs an argument: 'u' in -u\n"), r)
    r = e.bad("everestctl", "acounts", "list")
    check(r.err.startswith('Error: unknown command "acounts" for "everestctl"\n\nDid you mean this?\n'
                           "\taccounts\n"), r)
    r = e.bad("everestctl", "accounts", "list", "extra")
    check(r.err.startswith('Error: unknown command "extra" for "everestctl accounts list"\n'), r)
    r = e.bad("everestctl", "namespaces", "add", "--skip-wizard")
    check(r.err.startswith("Error: accepts 1 arg(s), received 0\n"), r)
    r = e.bad("everestctl", "accounts", "list", "--no-headers=maybe")
    check(r.err.startswith('Error: invalid argument "maybe" for "--no-headers" flag: strconv.ParseBool: '
                           'parsing "maybe": invalid syntax\n'), r)
    r = e.ok("everestctl", "settings", "rbac", "foo")
    check(r.out.startswith("Manage RBAC settings\n\nUsage:\n  everestctl settings rbac [command]"), r)
    r = e.ok("everestctl", "accounts", "create", "--help")
    check("-p, --password string" in r.out and "Examples:" in r.out, r)
    e.ok("everestctl", "-v", "accounts", "create", "-ubobby", "-psecret1")
    check("bobby" in e.accounts(), "-uVALUE form")
    r = e.ok("everestctl", "accounts", "create", "-u", "robin", "-p", "secret1", "--json")
    eq(r.out, "")
    logs = [json.loads(line) for line in r.err.splitlines()]
    eq([(x["level"], x["msg"]) for x in logs],
       [("info", "Creating user 'robin'"), ("info", "User 'robin' has been created succesfully")])
    r = e.bad("everestctl", "--json", "accounts", "create", "-u", "robin", "-p", "secret1")
    eq(r.out, "")
    eq([(x["level"], x["msg"]) for x in map(json.loads, r.err.splitlines())][-1:],
       [("error", "user already exists")])


# --------------------------------------------------------------------------
# namespaces


def _managed(e, ns):
    return e.kget("ns", ns)["metadata"]["labels"].get("app.kubernetes.io/managed-by") == "everest"


@test
def namespaces_add(e):
    r = e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    eq((r.out, r.err), ("✅  Provisioning database namespace 't1'\n", ""))
    check(_managed(e, "t1"), "labelled")
    eq(e.state()["operators"]["t1"], ["mongodb", "mysql", "postgresql"])
    eq(e.bad("everestctl", "namespaces", "add", "t1", "--skip-wizard").err,
       "❌ 't1': namespace already exists and is managed by Everest\n\n")
    eq(e.bad("everestctl", "namespaces", "add", "default", "--skip-wizard").err,
       "❌ 'default': namespace already exists. HINT: set '--take-ownership' flag to use existing "
       "namespaces\n\n")
    e.ok("everestctl", "namespaces", "add", "default", "--skip-wizard", "--take-ownership",
         "--operator.mongodb=false", "--operator.mysql=false")
    eq(e.state()["operators"]["default"], ["postgresql"])
    eq(e.bad("everestctl", "namespaces", "add", "t2").err, TTY)
    eq(e.bad("everestctl", "namespaces", "add", "t2", "--operator.mongodb=false",
             "--operator.postgresql=false", "--operator.mysql=false").err,
       "❌ no operators selected for installation. Minimum one operator must be selected\n\n")
    missing = e.no_kubeconfig_env()
    eq(e.bad("everestctl", "namespaces", "add", "everest-olm", env=missing).err,
       "❌ 'everest-olm' namespace is reserved for Everest internals. Please specify another "
       "namespace\n\n")
    rfc = ("❌ 'namespace name' is not RFC 1035 compatible. The name should contain only lowercase "
           "alphanumeric characters or '-', start with an alphabetic character, end with an "
           "alphanumeric character\n\n")
    for bad in ("Team", "1abc", "abc-", "a_b", "x" * 64):
        eq(e.bad("everestctl", "namespaces", "add", bad, env=missing).err, rfc, bad)
    eq(e.bad("everestctl", "namespaces", "add", " , ", env=missing).err,
       "❌ namespace list is empty. Specify at least one namespace\n\n")
    eq(e.bad("everestctl", "namespaces", "add", "t3", env=missing).err,
       "❌ open /nonexistent/kube/config: no such file or directory\ncould not read kubeconfig file\n\n")
    r = e.ok("everestctl", "namespaces", "add", " a1, b1,,a1 ", "--operator.mongodb=true")
    eq(r.out, "✅  Provisioning database namespace 'a1'\n✅  Provisioning database namespace 'b1'\n")
    adds = [c for c in e.calls() if c["argv"][:2] == ["namespaces", "add"] and c["effect"]]
    eq(len(adds), 3)


@test
def namespaces_operator_flags_by_version(e):
    r = e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard", "--operator.xtradb-cluster=false")
    eq(r.err, "Flag --operator.xtradb-cluster has been deprecated, please use --operator.mysql instead\n")
    eq(e.state()["operators"]["t1"], ["mongodb", "postgresql"])
    e.set("cli_version", "v1.5.0")
    r = e.bad("everestctl", "namespaces", "add", "t2", "--skip-wizard", "--operator.mysql=false")
    check(r.err.startswith("Error: unknown flag: --operator.mysql\n"), r)
    r = e.ok("everestctl", "namespaces", "add", "t2", "--skip-wizard", "--operator.xtradb-cluster=false")
    eq(r.err, "")


@test
def namespaces_add_delay_and_partial(e):
    e.set("namespace_add_delay_ms", 600)
    t0 = time.time()
    e.ok("everestctl", "namespaces", "add", "slow", "--skip-wizard")
    check(time.time() - t0 >= 0.6, "namespace_add_delay_ms")
    e.set("namespace_add_delay_ms", 0)
    e.fault(tool="everestctl", match=["namespaces", "add"], mode="partial_namespace")
    p = subprocess.Popen(e.cmd("everestctl", "namespaces", "add", "half", "--skip-wizard"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e.env)
    for _ in range(100):
        if any(c.get("fault") == "partial_namespace" for c in e.calls()):
            break
        time.sleep(0.1)
    check(p.poll() is None, "still hanging")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=10)
    eq(p.returncode, -signal.SIGTERM)
    ns = e.kget("ns", "half")
    check("app.kubernetes.io/managed-by" not in ns["metadata"]["labels"], "created without the label")
    eq(e.bad("everestctl", "namespaces", "add", "half", "--skip-wizard").err,
       "❌ 'half': namespace already exists. HINT: set '--take-ownership' flag to use existing "
       "namespaces\n\n")
    e.ok("everestctl", "namespaces", "add", "half", "--skip-wizard", "--take-ownership")
    check(_managed(e, "half"), "labelled after take-ownership")


@test
def namespaces_update(e):
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard", "--operator.mongodb=false",
         "--operator.mysql=false")
    eq(e.bad("everestctl", "namespaces", "update", "t1", "--skip-wizard").err,
       "❌ can't ask user for operators to install: interactive mode is disabled\n\n")
    eq(e.bad("everestctl", "namespaces", "update", "t1").err, TTY)
    eq(e.bad("everestctl", "namespaces", "update", "default", "--operator.mysql=true").err,
       "❌ 'default': namespace is not managed by Everest\n\n")
    r = e.ok("everestctl", "namespaces", "update", "t1", "--skip-wizard", "--operator.mongodb=true",
             "--operator.postgresql=true", "--operator.mysql=false")
    eq(r.out, "✅  Updating database namespace 't1'\n")
    eq(e.state()["operators"]["t1"], ["mongodb", "postgresql"])
    r = e.ok("everestctl", "namespaces", "update", "t1", "--operator.postgresql=false",
             "--operator.mysql=true")
    eq(r.out, "⚠️  Removal of an installed operator is not supported. Proceeding without removal.\n"
              "✅  Updating database namespace 't1'\n")
    eq(e.state()["operators"]["t1"], ["mongodb", "mysql", "postgresql"])


@test
def namespaces_remove(e):
    for ns in ("t1", "t2", "t3"):
        e.ok("everestctl", "namespaces", "add", ns, "--skip-wizard")
    e.ok("fakectl", "add-dbc", "t1", "db1", "pxc")
    e.ok("fakectl", "add-sts", "t1", "db1-pxc", "3")
    eq(e.bad("everestctl", "namespaces", "remove", "t1").err,
       "❌ cannot remove namespace with running database clusters. HINT: use --force to remove the "
       "namespace and all its resources\n\n")
    eq(e.bad("everestctl", "namespaces", "remove", "nope").err, "❌ 'nope': namespace does not exist\n\n")
    eq(e.bad("everestctl", "namespaces", "remove", "default").err,
       "❌ 'default': namespace is not managed by Everest\n\n")
    r = e.ok("everestctl", "namespaces", "remove", "t1", "--force")
    eq(r.out, "✅  Deleting database clusters in namespace 't1'\n"
              "✅  Deleting backup storages in namespace 't1'\n"
              "✅  Deleting monitoring instances in namespace 't1'\n"
              "✅  Deleting database namespace 't1'\n")
    eq(e.bad("kubectl", "get", "ns", "t1").err, 'Error from server (NotFound): namespaces "t1" not found\n')
    eq(e.kget("sts", "-n", "t1")["items"], [])
    check("t1" not in e.state()["operators"], "operators gone")
    e.ok("fakectl", "add-dbc", "t2", "db2")
    r = e.ok("everestctl", "namespaces", "remove", "t2", "--keep-namespace", "--force")
    eq(r.out.splitlines()[-1], "✅  Deleting resources from namespace 't2'")
    check(not _managed(e, "t2"), "label removed")
    eq(e.kget("dbc", "-n", "t2")["items"], [])
    check("t2" not in e.state()["operators"], "operators removed")
    e.ok("everestctl", "namespaces", "remove", "t3", "--keep-namespace")


@test
def namespaces_list(e):
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard", "--operator.mongodb=false")
    e.ok("everestctl", "namespaces", "add", "t2", "--skip-wizard", "--operator.mysql=false",
         "--operator.postgresql=false")
    e.ok("kubectl", "create", "namespace", "plain")
    headers = ["namespace", "managed", "operators"]
    eq(e.ok("everestctl", "namespaces", "list").out.splitlines(), table(headers, [
        ["t1", "true", "postgresql(v2.8.2), pxc(v1.18.0)"], ["t2", "true", "psmdb(v1.21.1)"]]))
    eq(e.ok("everestctl", "namespaces", "list", "-a").out.splitlines(), table(headers, [
        ["default", "false", ""], ["plain", "false", ""],
        ["t1", "true", "postgresql(v2.8.2), pxc(v1.18.0)"], ["t2", "true", "psmdb(v1.21.1)"]]))


# --------------------------------------------------------------------------
# RBAC


def _policy(e, name, text):
    path = os.path.join(e.tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


@test
def rbac_validate(e):
    good = _policy(e, "good.csv", "g, admin, role:admin\n# tenant t1\np, role:t1, namespaces, read, t1\n"
                                  "p, role:t1, database-clusters, *, t1/*\ng, tenant_t1, role:t1\n")
    r = e.ok("everestctl", "settings", "rbac", "validate", "--policy-file", good)
    eq((r.out, r.err), ("✅ Valid\n\n", ""))
    cases = {
        "p, role:t1, x, read, t1\ng, u, role:t1\n": "policy syntax error - unknown resource name 'x'",
        "p, role:t1, namespaces, read, t1\n  \ng, u, role:t1\n":
            "policy syntax error - invalid policy line '  '",
        "p, role:t2, namespaces, read, t1\n": "policy syntax error - role 'role:t2' does not exist",
        "p, role:t1, namespaces, read, a~b\ng, u, role:t1\n":
            "policy syntax error - invalid policy term 'a~b'",
        "p, role:t1, namespaces, read, t1 \ng, u, role:t1\n":
            "policy syntax error - invalid policy term 't1 '",
        "x, role:t1, namespaces\n": "policy syntax error - missing required section x",
        "p, role:t1, namespaces, read\ng, u, role:t1\n":
            "policy syntax error - invalid policy size: expected 4, got 3, pvals: [role:t1 namespaces read]",
        "garbage\n": "policy syntax error - invalid policy line 'garbage'",
    }
    for text, error in cases.items():
        r = e.bad("everestctl", "settings", "rbac", "validate", "--policy-file", _policy(e, "bad.csv", text))
        eq((r.out, r.err), (f"❌ Invalid\n{error}\n", ""), text)
    # Go's `*-_` range admits = [ ] ^ @ . and upper case; '*' alone and role:admin need no g line
    quirky = _policy(e, "quirky.csv", "p, role:admin, *, *, *\np, role:t1, namespaces, read, A=B[x]^@.\n"
                                      "g, u, role:t1\n")
    e.ok("everestctl", "settings", "rbac", "validate", "--policy-file", quirky)
    cm_yaml = _policy(e, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: everest-rbac\n"
                                    "  namespace: everest-system\ndata:\n  enabled: \"true\"\n"
                                    "  policy.csv: |\n    p, role:t1, namespaces, read, t1\n"
                                    "    g, tenant_t1, role:t1\n")
    e.ok("everestctl", "settings", "rbac", "validate", "--policy-file", cm_yaml)
    bad_yaml = _policy(e, "cm2.yaml", "data:\n  policy.csv: |-\n    p, role:t9, namespaces, read, t1\n")
    eq(e.bad("everestctl", "settings", "rbac", "validate", "--policy-file", bad_yaml).out,
       "❌ Invalid\npolicy syntax error - role 'role:t9' does not exist\n")
    # the live ConfigMap
    eq(e.ok("everestctl", "settings", "rbac", "validate").out, "✅ Valid\n\n")
    cm = e.kget("cm", "everest-rbac", "-n", "everest-system")
    cm["data"]["policy.csv"] += "p, role:ghost, namespaces, read, *\n"
    e.ok("kubectl", "replace", "-f", "-", stdin=json.dumps(cm))
    eq(e.bad("everestctl", "settings", "rbac", "validate").out,
       "❌ Invalid\npolicy syntax error - role 'role:ghost' does not exist\n")
    r = e.bad("everestctl", "settings", "rbac", "validate", "--policy-file", "/nonexistent.csv")
    eq(r.out, "❌ Invalid\npolicy syntax error - open /nonexistent.csv: no such file or directory\n")


@test
def rbac_can(e):
    policy = _policy(e, "p.csv", "g, admin, role:admin\np, role:t1, namespaces, read, t1\n"
                                 "p, role:t1, database-clusters, *, t1/*\ng, tenant_t1, role:t1\n")

    def can(*args, live=False):
        extra = [] if live else ["--policy-file", policy]
        return e.ok("everestctl", "settings", "rbac", "can", *args, *extra).out

    eq(can("tenant_t1", "read", "namespaces", "t1"), "Yes\n")
    eq(can("tenant_t1", "read", "namespaces", "t2"), "No\n")
    eq(can("tenant_t1", "delete", "database-clusters", "t1/db1"), "Yes\n")
    eq(can("tenant_t1", "delete", "database-clusters", "t1/a/b"), "No\n")  # * does not cross /
    eq(can("tenant_t1", "read", "database-clusters", "t2/db1"), "No\n")
    eq(can("tenant_t1", "create", "backup-storages", "t1/s3"), "No\n")
    eq(can("admin", "delete", "database-clusters", "all"), "Yes\n")
    eq(can("role:t1", "read", "namespaces", "t1"), "Yes\n")
    eq(can("nobody", "read", "namespaces", "t1"), "No\n")
    r = e.bad("everestctl", "settings", "rbac", "can", "u", "bogus", "namespaces", "t1")
    check(r.err.startswith("Error: invalid action 'bogus'. Supported actions: "
                           "create,read,update,delete,*\n"), r)
    r = e.bad("everestctl", "settings", "rbac", "can", "u", "read")
    check(r.err.startswith("Error: accepts 4 arg(s), received 2\n"), r)
    eq(can("nobody", "delete", "namespaces", "t1", live=True), "Yes\n")  # RBAC disabled
    e.ok("kubectl", "patch", "configmap", "everest-rbac", "-n", "everest-system", "--type", "merge",
         "-p", json.dumps({"data": {"enabled": "true",
                                    "policy.csv": "g, admin, role:admin\np, role:t1, namespaces, read, t1\n"
                                                  "g, tenant_t1, role:t1\n"}}))
    eq(can("nobody", "delete", "namespaces", "t1", live=True), "No\n")
    eq(can("tenant_t1", "read", "namespaces", "t1", live=True), "Yes\n")


# --------------------------------------------------------------------------
# kubectl


@test
def kubectl_get(e):
    ns = e.kget("namespace", "default")
    eq((ns["apiVersion"], ns["kind"], ns["metadata"]["name"], ns["status"]["phase"]),
       ("v1", "Namespace", "default", "Active"))
    for key in ("resourceVersion", "uid", "creationTimestamp", "labels"):
        check(key in ns["metadata"], key)
    r = e.bad("kubectl", "get", "ns", "nope", "-o", "json")
    eq((r.out, r.err), ("", 'Error from server (NotFound): namespaces "nope" not found\n'))
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    eq(e.bad("kubectl", "get", "dbc", "x", "-n", "t1", "-o", "json").err,
       'Error from server (NotFound): databaseclusters.everest.percona.com "x" not found\n')
    eq(e.bad("kubectl", "get", "statefulset.apps/x", "-n", "t1").err,
       'Error from server (NotFound): statefulsets.apps "x" not found\n')
    eq(e.bad("kubectl", "get", "cm", "x", "--namespace=t1").err,
       'Error from server (NotFound): configmaps "x" not found\n')
    empty = {"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}
    eq(e.kget("dbc", "-n", "no-such-ns"), empty)
    r = e.ok("kubectl", "get", "dbc", "-n", "t1", "-o", "json")
    eq(r.out, json.dumps(empty, indent=4, sort_keys=True) + "\n")
    e.ok("fakectl", "add-dbc", "t1", "db1", "psmdb")
    e.ok("fakectl", "add-sts", "t1", "db1-rs0", "3")
    for kind in ("dbc", "db", "dbcluster", "databasecluster", "databaseclusters",
                 "databaseclusters.everest.percona.com"):
        eq([i["metadata"]["name"] for i in e.kget(kind, "-n", "t1")["items"]], ["db1"], kind)
    for kind in ("sts", "statefulset", "statefulsets.apps"):
        eq(e.kget(kind, "-n", "t1")["items"][0]["spec"]["replicas"], 3, kind)
    dbc = e.kget("dbc", "db1", "-n", "t1")
    eq((dbc["apiVersion"], dbc["kind"], dbc["spec"]["engine"]["type"]),
       ("everest.percona.com/v1alpha1", "DatabaseCluster", "psmdb"))
    managed = e.kget("ns", "-l", "app.kubernetes.io/managed-by=everest")
    eq([i["metadata"]["name"] for i in managed["items"]], ["t1"])
    eq(e.ok("kubectl", "get", "ns", "t1", "-o", "name").out, "namespace/t1\n")
    eq(e.ok("kubectl", "get", "cm", "everest-rbac", "-n", "everest-system", "-o",
            "jsonpath={.data.enabled}").out, "false")
    eq(e.bad("kubectl", "get", "widgets").err, 'error: the server doesn\'t have a resource type "widgets"\n')


@test
def kubectl_apply(e):
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    quota = {"apiVersion": "v1", "kind": "ResourceQuota",
             "metadata": {"name": "user-quota", "namespace": "t1"},
             "spec": {"hard": {"requests.cpu": "2", "count/databaseclusters.everest.percona.com": "3"}}}
    limits = {"apiVersion": "v1", "kind": "LimitRange",
              "metadata": {"name": "user-limits", "namespace": "t1"},
              "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}}
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": [quota, limits]})
    eq(e.ok("kubectl", "apply", "-n", "t1", "-f", "-", stdin=doc).out,
       "resourcequota/user-quota created\nlimitrange/user-limits created\n")
    eq(e.ok("kubectl", "apply", "-f", "-", stdin=doc).out,
       "resourcequota/user-quota unchanged\nlimitrange/user-limits unchanged\n")
    limits["spec"]["limits"][0]["default"]["cpu"] = "2"
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": [quota, limits]})
    eq(e.ok("kubectl", "apply", "-n", "t1", "-f", "-", stdin=doc).out,
       "resourcequota/user-quota unchanged\nlimitrange/user-limits configured\n")
    r = e.bad("kubectl", "apply", "-n", "other", "-f", "-", stdin=json.dumps(quota))
    eq(r.err, 'error: the namespace from the provided object "t1" does not match the namespace "other". '
              "You must pass '--namespace=t1' to perform this operation.\n")
    del quota["metadata"]["namespace"]
    r = e.bad("kubectl", "apply", "-n", "ghost", "-f", "-", stdin=json.dumps(quota))
    eq(r.err, 'Error from server (NotFound): error when creating "STDIN": namespaces "ghost" not found\n')
    e.ok("fakectl", "add-dbc", "t1", "db1")
    got = e.kget("quota", "user-quota", "-n", "t1")
    eq(got["status"]["hard"], got["spec"]["hard"])
    eq(got["status"]["used"], {"requests.cpu": "0", "count/databaseclusters.everest.percona.com": "1"})
    eq(e.kget("limits", "user-limits", "-n", "t1")["spec"]["limits"][0]["default"]["cpu"], "2")
    applies = [c for c in e.calls() if c["tool"] == "kubectl" and c["argv"][:1] == ["apply"]]
    eq([c["effect"] for c in applies], [True, False, True, False, False])


@test
def kubectl_replace_conflicts(e):
    cm = e.kget("cm", "everest-rbac", "-n", "everest-system")
    eq(cm["metadata"]["resourceVersion"], "1")
    cm["data"]["policy.csv"] += "g, tenant_a, role:a\n"
    eq(e.ok("kubectl", "replace", "-f", "-", stdin=json.dumps(cm)).out, "configmap/everest-rbac replaced\n")
    eq(e.kget("cm", "everest-rbac", "-n", "everest-system")["metadata"]["resourceVersion"], "2")
    conflict = ('Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled '
                'on configmaps "everest-rbac": the object has been modified; please apply your changes '
                "to the latest version and try again\n")
    eq(e.bad("kubectl", "replace", "-f", "-", stdin=json.dumps(cm)).err, conflict)  # stale "1"
    e.set("rbac_conflicts", 2)
    for _ in range(2):
        fresh = e.kget("cm", "everest-rbac", "-n", "everest-system")
        eq(e.bad("kubectl", "replace", "-f", "-", stdin=json.dumps(fresh)).err, conflict)
    fresh = e.kget("cm", "everest-rbac", "-n", "everest-system")
    fresh["data"]["enabled"] = "true"
    e.ok("kubectl", "replace", "-f", "-", stdin=json.dumps(fresh))
    eq(e.state()["settings"]["rbac_conflicts"], 0)
    missing = dict(fresh, metadata={"name": "nope", "namespace": "everest-system"})
    eq(e.bad("kubectl", "replace", "-f", "-", stdin=json.dumps(missing)).err,
       'Error from server (NotFound): error when replacing "STDIN": configmaps "nope" not found\n')
    replaces = [c["effect"] for c in e.calls() if c["argv"][:1] == ["replace"]]
    eq(replaces, [True, False, False, False, True, False])


@test
def kubectl_patch_scale_annotate_label_delete(e):
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    e.ok("fakectl", "add-dbc", "t1", "db1", "pxc")
    e.ok("fakectl", "add-sts", "t1", "db1-pxc", "3")
    r = e.bad("kubectl", "patch", "dbc", "db1", "-n", "t1", "-p", '{"spec":{"paused":true}}')
    check(r.err.startswith("Error from server (UnsupportedMediaType)"), r)
    eq(e.ok("kubectl", "patch", "databasecluster", "db1", "-n", "t1", "--type", "merge",
            "-p", '{"spec":{"paused":true}}').out, "databasecluster.everest.percona.com/db1 patched\n")
    eq(e.ok("kubectl", "patch", "dbc/db1", "-n", "t1", "--type=merge",
            "--patch={\"spec\":{\"paused\":true}}").out,
       "databasecluster.everest.percona.com/db1 patched (no change)\n")
    dbc = e.kget("dbc", "db1", "-n", "t1")
    eq((dbc["spec"]["paused"], dbc["status"]["status"]), (True, "paused"))
    e.ok("kubectl", "patch", "dbc", "db1", "-n", "t1", "--type", "json",
         "-p", '[{"op":"replace","path":"/spec/paused","value":false}]')
    eq(e.kget("dbc", "db1", "-n", "t1")["spec"]["paused"], False)
    eq(e.bad("kubectl", "patch", "dbc", "nope", "-n", "t1", "--type", "merge", "-p", "{}").err,
       'Error from server (NotFound): databaseclusters.everest.percona.com "nope" not found\n')
    eq(e.ok("kubectl", "scale", "statefulset", "db1-pxc", "-n", "t1", "--replicas=0").out,
       "statefulset.apps/db1-pxc scaled\n")
    sts = e.kget("sts", "db1-pxc", "-n", "t1")
    eq((sts["spec"]["replicas"], sts["status"]["replicas"]), (0, 0))
    eq(e.bad("kubectl", "scale", "sts", "db1-pxc", "-n", "t1").err,
       'error: required flag(s) "replicas" not set\n')
    key = "everest-bootstrapd/suspended-replicas"
    eq(e.ok("kubectl", "annotate", "sts", "db1-pxc", "-n", "t1", f"{key}=3").out,
       "statefulset.apps/db1-pxc annotated\n")
    eq(e.bad("kubectl", "annotate", "statefulset/db1-pxc", "-n", "t1", f"{key}=0").err,
       f"error: --overwrite is false but found the following declared annotation(s): '{key}' already "
       "has a value (3)\n")
    e.ok("kubectl", "annotate", "namespace", "t1", "a=1", "b=2")
    e.ok("kubectl", "annotate", "ns", "t1", "a=9", "--overwrite")
    e.ok("kubectl", "annotate", "ns", "t1", "b-")
    eq(e.kget("ns", "t1")["metadata"]["annotations"], {"a": "9"})
    eq(e.ok("kubectl", "label", "ns", "t1", "tier=gold").out, "namespace/t1 labeled\n")
    eq(e.ok("kubectl", "label", "ns", "t1", "tier=gold").out, "namespace/t1 not labeled\n")
    eq(e.bad("kubectl", "label", "ns", "t1", "tier=silver").err,
       "error: 'tier' already has a value (gold), and --overwrite is false\n")
    e.ok("kubectl", "label", "ns", "t1", "tier-")
    check("tier" not in e.kget("ns", "t1")["metadata"]["labels"], "label removed")
    eq(e.ok("kubectl", "delete", "namespace", "t1", "--ignore-not-found=true", "--wait=false").out,
       'namespace "t1" deleted\n')
    eq(e.kget("dbc", "-n", "t1")["items"], [])
    eq(e.bad("kubectl", "delete", "ns", "t1").err,
       'Error from server (NotFound): namespaces "t1" not found\n')
    r = e.ok("kubectl", "delete", "ns", "t1", "--ignore-not-found=true", "--wait=false")
    eq((r.out, r.err), ("", ""))


@test
def kubectl_misc(e):
    r = e.ok("kubectl", "version", "--client", "-o", "json", env=e.no_kubeconfig_env())
    doc = json.loads(r.out)
    check(doc["clientVersion"]["gitVersion"].startswith("v1.") and "serverVersion" not in doc, doc)
    eq(e.bad("kubectl", "frobnicate").err, 'error: unknown command "frobnicate" for "kubectl"\n')
    eq(e.bad("kubectl", "get", "ns", "--frob").err,
       "error: unknown flag: --frob\nSee 'kubectl get --help' for usage.\n")
    eq(e.ok("kubectl", "create", "namespace", "n1").out, "namespace/n1 created\n")
    eq(e.bad("kubectl", "create", "ns", "n1").err,
       'Error from server (AlreadyExists): namespaces "n1" already exists\n')


@test
def other_commands(e):
    eq(e.bad("everestctl", "upgrade").err, "❌ no update available\n\n")
    eq(e.bad("everestctl", "upgrade", "--version", "1.10.0").err, "❌ downgrade not allowed\n\n")
    eq(e.bad("everestctl", "upgrade", "--version", "v1.13.0").err,
       "❌ cannot upgrade by more than one minor version\n\n")
    r = e.ok("everestctl", "upgrade", "--version", "v1.12.0")
    check("✅  Upgrading Everest Helm chart\n" in r.out, r)
    eq(e.ok("everestctl", "version", "--json").out.count('"serverVersion":"v1.12.0"'), 1)
    eq(e.ok("everestctl", "accounts", "reset-jwt-keys").out,
       "✅ JWT keys have been created/updated successfully\n\n")
    e.ok("kubectl", "get", "secret", "everest-jwt", "-n", "everest-system")
    r = e.ok("everestctl", "help", "namespaces", "add")
    check(r.out.startswith("Add a new namespace and make managed by Everest\n\nUsage:\n"
                           "  everestctl namespaces add <namespaces> [flags]\n"), r)
    check("Available Commands:" in e.ok("everestctl").out, "root help")
    e.set("spinner_ansi", True)
    r = e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    check("\x1b[" in r.out and "✅  Provisioning database namespace 't1'\n" in r.out, r)
    e.ok("everestctl", "settings", "oidc", "configure", "--issuer-url", "https://idp", "--client-id", "ev")
    oidc = e.kget("cm", "everest-settings", "-n", "everest-system")["data"]["oidc.config"]
    eq(json.loads(oidc)["issuerUrl"], "https://idp")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry", "namespace": "t1"}}
    eq(e.ok("kubectl", "apply", "--dry-run=client", "-f", "-", stdin=json.dumps(cm)).out,
       "configmap/dry created (dry run)\n")
    e.bad("kubectl", "get", "cm", "dry", "-n", "t1")
    r = e.ok("kubectl", "get", "ns", "t1", "-o", "yaml")
    check(r.out.startswith("apiVersion: v1\nkind: Namespace\nmetadata:\n") and
          "    app.kubernetes.io/managed-by: everest\n" in r.out, r)


# --------------------------------------------------------------------------
# faults and concurrency


@test
def faults(e):
    e.fault(tool="everestctl", match=["accounts", "create"], mode="exit", stderr="boom\n", exit_code=3,
            times=2)
    for _ in range(2):
        r = e.run("everestctl", "accounts", "create", "-u", "bob", "-p", "secret1")
        eq((r.rc, r.out, r.err), (3, "", "boom\n"))
    e.ok("everestctl", "accounts", "create", "-u", "bob", "-p", "secret1")
    e.fault(tool="everestctl", match=["accounts"], argv_contains=["eve"], mode="exit0error",
            stderr="❌ half-failed\n")
    r = e.run("everestctl", "accounts", "create", "-u", "eve", "-p", "secret1")
    eq((r.rc, r.err), (0, "❌ half-failed\n"))
    check("eve" not in e.accounts(), "exit0error has no effect")
    e.fault(tool="kubectl", match=["get"], mode="crash")
    eq(e.run("kubectl", "get", "ns").rc, -signal.SIGSEGV)
    e.fault(tool="kubectl", mode="garbage", bytes=5000)
    r = e.run("kubectl", "get", "ns")
    eq((r.rc, len(r.raw_out)), (0, 5000))
    check(b"\x1b[" in r.raw_out, "ANSI escapes")
    try:
        r.raw_out.decode("utf-8")
        check(False, "garbage must not be valid UTF-8")
    except UnicodeDecodeError:
        pass
    e.fault(tool="kubectl", mode="bigoutput", bytes=3 * 1024 * 1024)
    r = e.run("kubectl", "version", "--client")
    eq((r.rc, len(r.raw_out)), (0, 3 * 1024 * 1024))
    e.fault(tool="kubectl", mode="bigoutput")
    eq(len(e.run("kubectl", "get", "ns").raw_out), 10 * 1024 * 1024)
    e.fault(tool="kubectl", match=["get", "ns"], mode="delay", seconds=0.7)
    t0 = time.time()
    r = e.ok("kubectl", "get", "ns", "default", "-o", "name")
    check(time.time() - t0 >= 0.7 and r.out == "namespace/default\n", r)
    e.fault(tool="everestctl", match=["namespaces", "add"], mode="hang", times=-1)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        p = subprocess.Popen(e.cmd("everestctl", "namespaces", "add", "t9", "--skip-wizard"),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=e.env)
        time.sleep(0.5)
        check(p.poll() is None, "hangs")
        p.send_signal(sig)
        eq(p.wait(timeout=10), -sig)
    st = e.state()
    eq([(f["mode"], f["times"]) for f in st["faults"]], [("hang", -1)])
    eq(e.ok("fakectl", "faults-clear").rc, 0)
    modes = [c.get("fault") for c in e.calls() if c.get("fault")]
    eq(modes, ["exit", "exit", "exit0error", "crash", "garbage", "bigoutput", "bigoutput", "delay",
               "hang", "hang"])


@test
def concurrency(e):
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    procs = []
    for i in range(16):
        procs.append(subprocess.Popen(e.cmd("kubectl", "annotate", "ns", "t1", f"k{i}=v{i}"),
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=e.env))
    for i in range(8):
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}", "namespace": "t1"},
              "data": {"i": str(i)}}
        p = subprocess.Popen(e.cmd("kubectl", "apply", "-f", "-"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e.env)
        p.stdin.write(json.dumps(cm).encode())
        p.stdin.close()
        procs.append(p)
    for p in procs:
        p.wait(timeout=60)
        eq(p.returncode, 0, p.stderr.read())
        p.stdout.close()
        p.stderr.close()
    annotations = e.kget("ns", "t1")["metadata"]["annotations"]
    eq(sorted(annotations), sorted(f"k{i}" for i in range(16)))
    eq(len(e.kget("cm", "-n", "t1")["items"]), 8)
    eq(len([c for c in e.calls() if c["tool"] == "kubectl"]), 26)


@test
def install_uninstall(e):
    eq(e.bad("everestctl", "install", "--skip-wizard").err,
       "❌ everest is already installed. Version: v1.11.0\n\n")
    e.ok("everestctl", "namespaces", "add", "t1", "--skip-wizard")
    eq(e.bad("everestctl", "uninstall").err, TTY)
    r = e.ok("everestctl", "uninstall", "-y")
    check(r.out.endswith("Everest has been uninstalled successfully\n"), r)
    eq(e.state()["settings"]["server_version"], None)
    e.bad("kubectl", "get", "ns", "t1")
    e.bad("kubectl", "get", "ns", "everest-system")
    eq(e.bad("everestctl", "install").err, TTY)
    r = e.ok("everestctl", "install", "--skip-wizard", "--namespaces", "everest")
    check("✅  Provisioning database namespace 'everest'\n" in r.out, r)
    eq(e.state()["settings"]["server_version"], "v1.11.0")
    check(_managed(e, "everest"), "db namespace")
    check(len(e.ok("everestctl", "accounts", "initial-admin-password").out) == 65, "admin password")


# --------------------------------------------------------------------------


def run_one(root, fn):
    t0 = time.time()
    try:
        fn(Env(root))
        return fn.__name__, None, time.time() - t0
    except Exception:  # report every failure, keep going
        return fn.__name__, traceback.format_exc(), time.time() - t0


def main():
    selected = [t for t in TESTS if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]]
    root = tempfile.mkdtemp(prefix="fakes-selftest-")
    t0 = time.time()
    failed = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(run_one, root, fn) for fn in selected]
            for future in futures:
                name, error, seconds = future.result()
                if error:
                    failed += 1
                    print(f"FAIL {name} ({seconds:.1f}s)\n{error}")
                else:
                    print(f"ok   {name} ({seconds:.1f}s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"total {time.time() - t0:.1f}s")
    print(f"{len(selected) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
