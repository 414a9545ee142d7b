"""fakectl: set up and inspect the simulated cluster of the fake everestctl/kubectl.

Usage: fakectl [--kubeconfig PATH] <command> [args]

  init                          create the kubeconfig (dummy) if missing and the initial state
  dump                          print the state file (JSON)
  accounts                      print the decoded users.yaml of everest-accounts (JSON)
  calls                         print the call log (one JSON object per line)
  set <key> <json value>        change a setting (a bare word is taken as a string)
  fault-add '<json rule>'       append a fault rule
  faults-clear                  drop all fault rules
  add-dbc <ns> <name> [engine]  create a DatabaseCluster (engine: postgresql|pxc|psmdb)
  add-sts <ns> <name> <replicas>  create a StatefulSet

Without --kubeconfig the path comes from KUBECONFIG (first entry) or ~/.kube/config.
"""

import json
import os
import sys

import fakecluster as fc
from fake_kubectl import sync_status

DUMMY_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://fake-everest.invalid:6443
  name: fake-everest
contexts:
- context:
    cluster: fake-everest
    namespace: default
    user: fake-admin
  name: fake-everest
current-context: fake-everest
preferences: {}
users:
- name: fake-admin
  user:
    token: fake-token
"""

ENGINE_VERSIONS = {"postgresql": "17.5", "pxc": "8.0.42-33.1", "psmdb": "7.0.18-11"}


class UsageError(Exception):
    pass


def _cluster(path, create=False):
    if create:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write(DUMMY_KUBECONFIG)
    elif not os.path.isfile(path):
        raise UsageError(f"kubeconfig {path} does not exist (run `fakectl --kubeconfig {path} init`)")
    return fc.Cluster(path)


def _json_arg(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_set(cluster, key, value_text):
    if key not in fc.DEFAULT_SETTINGS:
        raise UsageError(f"unknown setting {key!r}; known: {', '.join(sorted(fc.DEFAULT_SETTINGS))}")
    value = _json_arg(value_text)
    with cluster.transaction() as st:
        if key == "server_version":
            old = st.setting("server_version")
            if value is None and old:
                st.uninstall_core()
            elif value and not old:
                st.install_core(value)
        st.set_setting(key, value)


def cmd_fault_add(cluster, text):
    rule = _json_arg(text)
    if not isinstance(rule, dict):
        raise UsageError("a fault rule is a JSON object")
    if rule.get("mode") not in fc.FAULT_MODES:
        raise UsageError(f"mode must be one of {', '.join(fc.FAULT_MODES)}")
    if rule.get("tool") not in (None, "everestctl", "kubectl"):
        raise UsageError('tool must be "everestctl" or "kubectl"')
    if not isinstance(rule.get("match", []), list):
        raise UsageError("match must be a list of positional words")
    with cluster.transaction() as st:
        st.faults.append(rule)


def cmd_add_dbc(cluster, ns, name, engine="postgresql"):
    if engine not in ENGINE_VERSIONS:
        raise UsageError(f"engine must be one of {', '.join(ENGINE_VERSIONS)}")
    obj = fc.new_object("DatabaseCluster", name, ns, spec={
        "engine": {"type": engine, "version": ENGINE_VERSIONS[engine], "replicas": 1,
                   "storage": {"size": "1Gi"}, "resources": {"cpu": "1", "memory": "1G"}},
        "proxy": {"replicas": 1}})
    _add(cluster, obj)


def cmd_add_sts(cluster, ns, name, replicas):
    labels = {"app.kubernetes.io/instance": name}
    obj = fc.new_object("StatefulSet", name, ns, spec={
        "replicas": int(replicas), "serviceName": name, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "db", "image": "percona/fake:1"}]}}})
    _add(cluster, obj)


def _add(cluster, obj):
    ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    sync_status(obj)
    with cluster.transaction() as st:
        if st.namespace(ns) is None:
            raise UsageError(f'namespace "{ns}" does not exist')
        if st.get(obj["kind"], ns, name) is not None:
            raise UsageError(f'{obj["kind"]} {ns}/{name} already exists')
        st.put(obj)


def run(argv):
    path = None
    while argv and argv[0].startswith("--kubeconfig"):
        if argv[0] == "--kubeconfig":
            if len(argv) < 2:
                raise UsageError("--kubeconfig needs a path")
            path, argv = argv[1], argv[2:]
        else:
            path, argv = argv[0].split("=", 1)[1], argv[1:]
    if path is None:
        path, _ = fc.resolve_kubectl_kubeconfig([])
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    cmd, args = argv[0], argv[1:]
    arity = {"init": (0, 0), "dump": (0, 0), "accounts": (0, 0), "calls": (0, 0), "faults-clear": (0, 0),
             "set": (2, 2), "fault-add": (1, 1), "add-dbc": (2, 3), "add-sts": (3, 3)}
    if cmd not in arity:
        raise UsageError(f"unknown command {cmd!r} (see fakectl --help)")
    lo, hi = arity[cmd]
    if not lo <= len(args) <= hi:
        raise UsageError(f"{cmd}: wrong number of arguments (see fakectl --help)")
    cluster = _cluster(path, create=(cmd == "init"))
    if cmd == "init":
        with cluster.transaction():
            pass
    elif cmd == "dump":
        with cluster.transaction() as st:
            print(json.dumps(st.data, indent=2, sort_keys=True, ensure_ascii=False))
    elif cmd == "accounts":
        with cluster.transaction() as st:
            secret = st.accounts_secret()
            print(json.dumps(fc.get_accounts(secret) if secret else None, indent=2, sort_keys=True))
    elif cmd == "calls":
        for entry in cluster.read_log():
            print(json.dumps(entry, ensure_ascii=False))
    elif cmd == "faults-clear":
        with cluster.transaction() as st:
            st.faults.clear()
    elif cmd == "set":
        cmd_set(cluster, *args)
    elif cmd == "fault-add":
        cmd_fault_add(cluster, *args)
    elif cmd == "add-dbc":
        cmd_add_dbc(cluster, *args)
    elif cmd == "add-sts":
        cmd_add_sts(cluster, *args)
    return 0


def main(argv):
    try:
        return run(argv)
    except UsageError as e:
        sys.stderr.write(f"fakectl: {e}\n")
        return 2
    except ValueError as e:
        sys.stderr.write(f"fakectl: {e}\n")
        return 2
