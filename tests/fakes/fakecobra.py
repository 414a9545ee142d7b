"""A small emulation of spf13/cobra v1.10 + spf13/pflag, as used by everestctl.

Reproduces what callers can observe: interspersed flags, `--flag=v` / `--flag v` /
`-fv` / `-f v` forms, bool flags that never take a separate value, string
slices, deprecated flags, the exact parse-error texts, ExactArgs / NoArgs /
legacy root-argument errors, and cobra's usage and help layout.
"""

import os

from fakecluster import Exit, Invocation

BOOL, STRING, STRINGS = "bool", "string", "strings"


class FlagError(Exception):
    pass


class Flag:
    def __init__(self, name, short=None, kind=BOOL, default=None, usage="", hidden=False,
                 deprecated=None):
        self.name = name
        self.short = short
        self.kind = kind
        if default is None:
            default = {BOOL: False, STRING: "", STRINGS: []}[kind]
        self.default = default
        self.usage = usage
        self.hidden = hidden or bool(deprecated)  # pflag hides deprecated flags
        self.deprecated = deprecated

    def default_text(self):
        """pflag's " (default ...)" suffix, empty for zero values."""
        if self.kind == BOOL:
            return " (default true)" if self.default else ""
        if self.kind == STRING:
            return f' (default "{self.default}")' if self.default else ""
        return f" (default [{','.join(self.default)}])" if self.default else ""


HELP_FLAG_USAGE = "help for {name}"


class Command:
    def __init__(self, use, short="", long="", flags=(), persistent_flags=(), run=None,
                 args=None, example="", children=(), hidden=False):
        self.use = use
        self.name = use.split()[0]
        self.short = short
        self.long = long
        self.flags = list(flags)
        self.persistent_flags = list(persistent_flags)
        self.run = run
        self.args = args  # None (legacy), ("exact", n) or ("none",)
        self.example = example
        self.children = []
        self.parent = None
        self.hidden = hidden
        self.mutually_exclusive = []
        for c in children:
            self.add(c)

    def add(self, child):
        child.parent = self
        self.children.append(child)
        return child

    @property
    def path(self):
        return f"{self.parent.path} {self.name}" if self.parent else self.name

    @property
    def runnable(self):
        return self.run is not None

    def child(self, name):
        for c in self.children:
            if c.name == name:
                return c
        return None

    def inherited_flags(self):
        flags, p = [], self.parent
        while p is not None:
            flags.extend(p.persistent_flags)
            p = p.parent
        return flags

    def local_flags(self):
        return self.flags + self.persistent_flags + [
            Flag("help", "h", BOOL, usage=HELP_FLAG_USAGE.format(name=self.name))]

    def all_flags(self):
        return self.local_flags() + self.inherited_flags()

    def use_line(self):
        line = f"{self.parent.path} {self.use}" if self.parent else self.use
        if self.all_flags() and "[flags]" not in line:
            line += " [flags]"
        return line


class Parsed:
    """Flag values (by long name), which flags were set (`changed`) and positionals."""

    def __init__(self, flags):
        self.values = {f.name: list(f.default) if f.kind == STRINGS else f.default for f in flags}
        self.changed = set()
        self.set_order = []  # long names in the order they were set (last one wins)
        self.args = []
        self.deprecations = []

    def __getitem__(self, name):
        return self.values[name]


def parse_bool(text, flag, dashes):
    table = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
    if text not in table:
        raise FlagError(f'invalid argument "{text}" for "{dashes}" flag: '
                        f'strconv.ParseBool: parsing "{text}": invalid syntax')
    return table[text]


def _set(parsed, flag, value, dashes):
    if flag.kind == BOOL:
        value = parse_bool(value, flag, dashes)
    elif flag.kind == STRINGS:
        items = [] if value == "" else _split_csv(value)
        value = items if flag.name not in parsed.changed else parsed.values[flag.name] + items
    parsed.values[flag.name] = value
    parsed.changed.add(flag.name)
    parsed.set_order.append(flag.name)
    if flag.deprecated:
        parsed.deprecations.append(f"Flag --{flag.name} has been deprecated, {flag.deprecated}\n")


def _split_csv(value):
    if '"' not in value:
        return value.split(",")
    import csv
    return next(csv.reader([value]))


def parse_flags(flags, argv):
    """pflag's interspersed parsing. Raises FlagError with pflag's message."""
    by_long = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    parsed = Parsed(flags)
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            parsed.args.extend(argv[i:])
            break
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            flag = by_long.get(name)
            if flag is None:
                raise FlagError(f"unknown flag: --{name}")
            dashes = f"-{flag.short}, --{flag.name}" if flag.short else f"--{flag.name}"
            if flag.kind == BOOL:
                _set(parsed, flag, value if eq else "true", dashes)
            elif eq:
                _set(parsed, flag, value, dashes)
            elif i < len(argv):
                _set(parsed, flag, argv[i], dashes)
                i += 1
            else:
                raise FlagError(f"flag needs an argument: --{name}")
        elif a.startswith("-") and len(a) > 1:
            shorts = a[1:]
            while shorts:
                c, shorts = shorts[0], shorts[1:]
                flag = by_short.get(c)
                if flag is None:
                    raise FlagError(f"unknown shorthand flag: '{c}' in {a}")
                dashes = f"-{flag.short}, --{flag.name}"
                if flag.kind == BOOL:
                    if shorts.startswith("="):
                        _set(parsed, flag, shorts[1:], dashes)
                        shorts = ""
                    else:
                        _set(parsed, flag, "true", dashes)
                elif shorts:
                    _set(parsed, flag, shorts[1:] if shorts.startswith("=") else shorts, dashes)
                    shorts = ""
                elif i < len(argv):
                    _set(parsed, flag, argv[i], dashes)
                    i += 1
                else:
                    raise FlagError(f"flag needs an argument: '{c}' in {a}")
        else:
            parsed.args.append(a)
    return parsed


def value_flag_names(flags):
    """The argv spellings of flags that take a separate value (for skipping values)."""
    names = set()
    for f in flags:
        if f.kind != BOOL:
            names.add("--" + f.name)
            if f.short:
                names.add("-" + f.short)
    return names


def strip_flags(args, flags):
    """cobra's stripFlags: the non-flag words of args as (index, word) pairs.

    Like cobra, `--name value` and `-x value` skip the value unless the flag is a
    known bool, so an unknown flag swallows the next word."""
    bool_long = {f.name for f in flags if f.kind == BOOL}
    bool_short = {f.short for f in flags if f.kind == BOOL and f.short}
    words, i = [], 0
    while i < len(args):
        s = args[i]
        i += 1
        if s == "--":
            break
        takes_value = (s.startswith("--") and "=" not in s and s[2:] not in bool_long) or (
            s.startswith("-") and not s.startswith("--") and "=" not in s and len(s) == 2
            and s[1:] not in bool_short)
        if takes_value:
            if i >= len(args):
                break
            i += 1
        elif s and not s.startswith("-"):
            words.append((i - 1, s))
    return words


def find_command(root, argv):
    """cobra's Find: descend through subcommand names, skipping flags."""
    cmd, rest = root, list(argv)
    while cmd.children:
        words = strip_flags(rest, cmd.all_flags())
        if not words:
            break
        idx, word = words[0]
        child = cmd.child(word)
        if child is None:
            break
        cmd = child
        rest = rest[:idx] + rest[idx + 1:]
    return cmd, rest


# --------------------------------------------------------------------------
# Usage / help text


def flag_usages(flags):
    lines, width = [], 0
    for f in sorted((f for f in flags if not f.hidden), key=lambda f: f.name):
        head = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        if f.kind != BOOL:
            head += " " + f.kind
        width = max(width, len(head) + 1)
        lines.append((head, f.usage + f.default_text()))
    return "".join(f"{h}{' ' * (width - len(h))}  {u}".rstrip() + "\n" for h, u in lines)


def usage_string(cmd):
    out = ["Usage:"]
    if cmd.runnable:
        out.append("\n  " + cmd.use_line())
    visible = [c for c in cmd.children if not c.hidden]
    if visible:
        out.append(f"\n  {cmd.path} [command]")
    if cmd.example:
        out.append("\n\nExamples:\n" + cmd.example)
    if visible:
        pad = max([11] + [len(c.name) for c in visible])
        out.append("\n\nAvailable Commands:")
        for c in sorted(visible, key=lambda c: c.name):
            out.append(f"\n  {c.name.ljust(pad)} {c.short}")
    local = flag_usages(cmd.local_flags())
    if local:
        out.append("\n\nFlags:\n" + local.rstrip("\n"))
    inherited = flag_usages(cmd.inherited_flags())
    if inherited:
        out.append("\n\nGlobal Flags:\n" + inherited.rstrip("\n"))
    if visible:
        out.append(f'\n\nUse "{cmd.path} [command] --help" for more information about a command.')
    return "".join(out) + "\n"


def help_string(cmd):
    text = (cmd.long or cmd.short).rstrip()
    return (text + "\n\n" if text else "") + usage_string(cmd)


def _levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggestions(cmd, word):
    names = [c.name for c in cmd.children if not c.hidden and
             (_levenshtein(word.lower(), c.name.lower()) <= 2 or c.name.startswith(word))]
    if not names:
        return ""
    return "\n\nDid you mean this?\n" + "".join(f"\t{n}\n" for n in names)


# --------------------------------------------------------------------------
# Execution


def cobra_error(cmd, message, with_usage=True):
    """What cobra prints for an error returned from Execute, then main's os.Exit(1).

    cobra writes "Error: <msg>" and the usage to stderr; everestctl's main then
    reports the returned error once more (EVERESTCTL.md §1)."""
    text = f"Error: {message}\n"
    if with_usage:
        text += usage_string(cmd) + "\n"
    else:
        text += f"Run '{cmd.path} --help' for usage.\n"
    Invocation.err(text + f"Error: {message}\n")
    raise Exit(1)


def execute(root, argv, context_factory):
    """Finds and runs a command. context_factory(cmd, parsed) builds the handler context."""
    cmd, rest = find_command(root, argv)
    if cmd.args is None and cmd.parent is None and cmd.children:
        # cobra's legacyArgs: a root command with subcommands takes no arguments
        stray = [w for _, w in strip_flags(rest, cmd.all_flags())]
        if stray:
            cobra_error(cmd, f'unknown command "{stray[0]}" for "{cmd.path}"'
                             f"{suggestions(cmd, stray[0])}", with_usage=False)
    try:
        parsed = parse_flags(cmd.all_flags(), rest)
    except FlagError as e:
        cobra_error(cmd, str(e))
    for warning in parsed.deprecations:
        Invocation.err(warning)
    if parsed["help"]:
        Invocation.out(help_string(cmd))
        raise Exit(0)
    if not cmd.runnable:
        Invocation.out(help_string(cmd))
        raise Exit(0)
    if cmd.args:
        if cmd.args[0] == "none" and parsed.args:
            cobra_error(cmd, f'unknown command "{parsed.args[0]}" for "{cmd.path}"')
        if cmd.args[0] == "exact" and len(parsed.args) != cmd.args[1]:
            cobra_error(cmd, f"accepts {cmd.args[1]} arg(s), received {len(parsed.args)}")
    for group in cmd.mutually_exclusive:
        both = sorted(n for n in group if n in parsed.changed)
        if len(both) > 1:
            names = " ".join(sorted(group))
            cobra_error(cmd, f"if any flags in the group [{names}] are set none of the others can be; "
                             f"[{' '.join(both)}] were all set")
    return cmd.run(context_factory(cmd, parsed))


def expand_home(path):
    """everestctl replaces a leading ~ with $HOME."""
    if path == "~" or path.startswith("~/"):
        return os.environ.get("HOME", "") + path[1:]
    return path
