#!/usr/bin/env python3
"""Bundles schemas/openapi.json and the JSON Schema files it refers to into one
self-contained OpenAPI 3.1 document (the one the daemon serves at GET /openapi.json).

Usage: bundle.py <schemas-dir> [out]      (writes to stdout without `out`)

* Every reference to a schema file, "<name>.schema.json" or
  "<name>.schema.json#/<pointer>", becomes "#/components/schemas/<name>" or
  "#/components/schemas/<name>/<pointer>", and the file's schema is placed under
  components.schemas.<name> without its "$schema" and "$id" (an entry of
  openapi.json's components.schemas that is only {"$ref": "<name>.schema.json"}
  is replaced by the file itself). Files referred to only from other schema files
  are pulled in too.
* Inside a schema file, "#/<pointer>" becomes "#/components/schemas/<name>/<pointer>"
  and references to other files are rewritten as above. Values of the data
  keywords (const, enum, default, examples, example) are copied untouched.
* The output is deterministic: openapi.json's order, components.schemas sorted by
  name, compact (one space of indentation).
* It fails (exit 1, a message on stderr) on a reference to anything but a
  same-directory *.schema.json file, a name clash, or a local reference that
  does not resolve in the bundled document.

Python 3 standard library only.
"""
import json
import os
import re
import sys

SUFFIX = ".schema.json"
# JSON Schema keywords whose values are data, not schemas: never rewritten.
DATA_KEYWORDS = {"const", "enum", "default", "examples", "example"}
# JSON Schema keywords whose values map names to schemas: their keys are names.
NAME_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
FILE_REF = re.compile(r"^(?:\./)?([A-Za-z0-9_.-]+)\.schema\.json(?:#(.*))?$")


class BundleError(Exception):
    pass


def pointer_escape(token):
    return token.replace("~", "~0").replace("/", "~1")


def pointer_get(doc, pointer):
    """Resolves a JSON pointer ("" or "/a/b") in doc; raises KeyError."""
    node = doc
    if pointer == "":
        return node
    if not pointer.startswith("/"):
        raise KeyError(pointer)
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        elif isinstance(node, dict):
            node = node[token]
        else:
            raise KeyError(pointer)
    return node


class Bundler:
    def __init__(self, schemas_dir):
        self.dir = schemas_dir
        self.loaded = {}   # name -> rewritten schema
        self.pending = []  # names referenced, not loaded yet

    def target(self, name, fragment):
        base = "#/components/schemas/" + pointer_escape(name)
        if fragment in (None, ""):
            return base
        if not fragment.startswith("/"):
            raise BundleError(f"reference fragment '#{fragment}' of {name}{SUFFIX} is not a JSON pointer")
        return base + fragment

    def file_ref(self, ref, where):
        m = FILE_REF.match(ref)
        if not m:
            raise BundleError(f"{where}: reference '{ref}' is neither local (#...) nor a same-directory *{SUFFIX} file")
        name, fragment = m.group(1), m.group(2)
        if not os.path.isfile(os.path.join(self.dir, name + SUFFIX)):
            raise BundleError(f"{where}: reference '{ref}': no file {name}{SUFFIX}")
        if name not in self.loaded and name not in self.pending:
            self.pending.append(name)
        return self.target(name, fragment)

    # OpenAPI document: every non-local $ref is a schema file.
    def rewrite_openapi(self, node, where="openapi.json"):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str) and not v.startswith("#"):
                    out[k] = self.file_ref(v, where)
                else:
                    out[k] = self.rewrite_openapi(v, where)
            return out
        if isinstance(node, list):
            return [self.rewrite_openapi(v, where) for v in node]
        return node

    # A schema file: local refs move under components.schemas.<name>.
    def rewrite_schema(self, node, name, in_name_map=False):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if in_name_map:
                    out[k] = self.rewrite_schema(v, name)
                elif k in DATA_KEYWORDS:
                    out[k] = v
                elif k == "$ref" and isinstance(v, str):
                    if v.startswith("#"):
                        out[k] = self.target(name, v[1:])
                    else:
                        out[k] = self.file_ref(v, f"{name}{SUFFIX}")
                else:
                    out[k] = self.rewrite_schema(v, name, in_name_map=k in NAME_MAPS)
            return out
        if isinstance(node, list):
            return [self.rewrite_schema(v, name) for v in node]
        return node

    def load(self, name):
        path = os.path.join(self.dir, name + SUFFIX)
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        if not isinstance(schema, dict):
            raise BundleError(f"{name}{SUFFIX}: not a JSON object")
        schema = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
        if "$defs" in schema and "definitions" in schema:
            raise BundleError(f"{name}{SUFFIX}: both $defs and definitions")
        self.loaded[name] = self.rewrite_schema(schema, name)

    def bundle(self):
        with open(os.path.join(self.dir, "openapi.json"), encoding="utf-8") as f:
            doc = json.load(f)
        components = doc.setdefault("components", {})
        schemas = components.get("schemas", {})
        # Entries that only point at their own file are replaced by the file.
        own = {}
        for key, value in schemas.items():
            if isinstance(value, dict) and set(value) == {"$ref"}:
                m = FILE_REF.match(value["$ref"]) if isinstance(value["$ref"], str) else None
                if m and m.group(1) == key and m.group(2) in (None, ""):
                    own[key] = True
                    if key not in self.pending:
                        self.pending.append(key)
        inline = {k: v for k, v in schemas.items() if k not in own}
        doc = self.rewrite_openapi({k: v for k, v in doc.items() if k != "components"})
        components = self.rewrite_openapi({k: v for k, v in components.items() if k != "schemas"},
                                          "openapi.json#/components")
        inline = self.rewrite_openapi(inline, "openapi.json#/components/schemas")
        while self.pending:
            self.load(self.pending.pop(0))
        clash = sorted(set(inline) & set(self.loaded))
        if clash:
            raise BundleError(f"components.schemas {clash} of openapi.json clash with schema files of the same names")
        merged = dict(inline)
        merged.update(self.loaded)
        components["schemas"] = {k: merged[k] for k in sorted(merged)}
        doc["components"] = components
        self.check_local_refs(doc)
        return doc

    def check_local_refs(self, doc):
        bad = []

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref" and isinstance(v, str):
                        if not v.startswith("#"):
                            bad.append(f"external reference left: {v}")
                        else:
                            try:
                                pointer_get(doc, v[1:])
                            except (KeyError, IndexError, ValueError):
                                bad.append(f"unresolved reference: {v}")
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(doc)
        if bad:
            raise BundleError("; ".join(sorted(set(bad))))


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: bundle.py <schemas-dir> [out]\n")
        return 2
    try:
        doc = Bundler(argv[1]).bundle()
    except (OSError, ValueError, BundleError) as e:
        sys.stderr.write(f"bundle.py: {e}\n")
        return 1
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if len(argv) == 3:
        tmp = argv[2] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, argv[2])
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
