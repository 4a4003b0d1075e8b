"""The reference reader for tests/dialect.rs: libyaml's parser (through PyYAML's C binding,
the same family as go-yaml, Kubernetes' reader) with go-yaml v2's scalar resolution.

Reads a JSON list of {"name", "text"} on stdin; writes one JSON line per input:
{"name", "ok": true, "docs": [...]} or {"name", "ok": false, "error": "..."}.

Data is written canonically so the Rust side can write its own reading the same way: a
mapping is {"map": [[key, value], ...]} in go-yaml v2's order of precedence (merge keys
applied), a sequence a JSON list, a scalar {"null": ""}, {"bool": "true"}, {"int": "12"},
{"float": "1.5"} or {"str": "..."}.
"""
import json
import math
import re
import sys

import yaml

if not yaml.__with_libyaml__:
    sys.exit("PyYAML was built without libyaml: the reference must be libyaml's parser")


# go-yaml v2 resolves a plain scalar by these rules (resolve.go), not YAML 1.1's full list:
# y/n are booleans, timestamps and sexagesimal numbers stay strings, `_` is dropped before
# numbers are parsed the way Go's strconv does (0x, 0o, 0b, a leading 0 for octal).
BOOLS = {
    **{w: True for w in "y Y yes Yes YES on On ON true True TRUE".split()},
    **{w: False for w in "n N no No NO off Off OFF false False FALSE".split()},
}
NULLS = {"", "~", "null", "Null", "NULL"}
FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
INT64 = (-(1 << 63), (1 << 64) - 1)


def go_int(text):
    s = text.replace("_", "")
    sign = 1
    if s[:1] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        return None
    try:
        low = s.lower()
        if low.startswith("0x"):
            v = int(s[2:], 16)
        elif low.startswith("0o"):
            v = int(s[2:], 8)
        elif low.startswith("0b"):
            v = int(s[2:], 2)
        elif len(s) > 1 and s[0] == "0":
            v = int(s[1:], 8)
        elif s.isdigit():
            v = int(s)
        else:
            return None
    except ValueError:
        return None
    v *= sign
    return v if INT64[0] <= v <= INT64[1] else None


def plain(text):
    if text in NULLS:
        return {"null": ""}
    if text in BOOLS:
        return {"bool": "true" if BOOLS[text] else "false"}
    if text in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"):
        return {"float": "inf"}
    if text in ("-.inf", "-.Inf", "-.INF"):
        return {"float": "-inf"}
    if text in (".nan", ".NaN", ".NAN"):
        return {"float": "nan"}
    i = go_int(text)
    if i is not None:
        return {"int": str(i)}
    if FLOAT.match(text.replace("_", "")) and text.replace("_", ""):
        return {"float": canonical_float(float(text.replace("_", "")))}
    return {"str": text}


def canonical_float(f):
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return repr(f)


class Scalar:
    def __init__(self, event):
        self.value = event.value
        self.plain = event.style is None or event.style == ""
        # A tag the author wrote; "!" (non-specific) makes a plain scalar a string.
        self.tag = event.tag


class Seq(list):
    pass


class Map(list):
    pass


def compose(events):
    """libyaml's events of one stream, as documents of Scalar/Seq/Map (aliases shared)."""
    anchors = {}
    docs = []
    stack = []

    def add(node, anchor):
        if anchor is not None:
            anchors[anchor] = node
        if not stack:
            docs.append(node)
            return
        parent = stack[-1]
        if isinstance(parent, Map):
            if parent and len(parent[-1]) == 1:
                parent[-1].append(node)
            else:
                parent.append([node])
        else:
            parent.append(node)

    for e in events:
        if isinstance(e, yaml.ScalarEvent):
            add(Scalar(e), e.anchor)
        elif isinstance(e, yaml.AliasEvent):
            if e.anchor not in anchors:
                raise ValueError("unknown anchor " + e.anchor)
            add(anchors[e.anchor], None)
        elif isinstance(e, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            node = Seq() if isinstance(e, yaml.SequenceStartEvent) else Map()
            add(node, e.anchor)
            stack.append(node)
        elif isinstance(e, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()
        elif isinstance(e, yaml.DocumentEndEvent):
            anchors = {}
        elif isinstance(e, yaml.DocumentStartEvent):
            pass
    return docs


def scalar(node):
    if node.tag == "!":
        return {"str": node.value}
    if node.tag is None:
        return plain(node.value) if node.plain else {"str": node.value}
    tag = node.tag
    short = tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else None
    if short in ("str", "binary"):
        return {"str": node.value}
    if short == "null":
        return {"null": ""}
    if short in ("bool", "int", "float"):
        got = plain(node.value)
        kind = next(iter(got))
        if short == "bool" or kind in ("int", "float"):
            return got
        return {"str": node.value}
    return {"str": "!" + (short or tag.lstrip("!")) + " " + node.value}


def data(node, budget):
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("aliases expand too far")
    if isinstance(node, Scalar):
        return scalar(node)
    if isinstance(node, Seq):
        return [data(n, budget) for n in node]
    entries = []
    merged = []

    def put(k, v, from_merge):
        key = json.dumps(k, sort_keys=True)
        for i, (kk, _) in enumerate(entries):
            if json.dumps(kk, sort_keys=True) == key and (from_merge or merged[i]):
                entries[i] = (k, v)
                merged[i] = from_merge
                return
        entries.append((k, v))
        merged.append(from_merge)

    for k, v in node:
        if isinstance(k, Scalar) and k.value == "<<" and k.plain and k.tag is None:
            sources = [v] if isinstance(v, Map) else list(reversed(v))
            for s in sources:
                for mk, mv in data(s, budget)["map"]:
                    put(mk, mv, True)
            continue
        key = data(k, budget)
        if not isinstance(key, dict) or "map" in key:
            # sigs.k8s.io/yaml turns YAML into JSON, whose keys are strings: a collection as
            # a key is refused there, before any object is read.
            raise ValueError("a collection as a mapping key has no JSON form")
        put(key, data(v, budget), False)
    return {"map": [[k, v] for k, v in entries]}


def main():
    for case in json.load(sys.stdin):
        out = {"name": case["name"]}
        try:
            docs = compose(yaml.parse(case["text"], Loader=yaml.CSafeLoader))
            out.update(ok=True, docs=[data(d, [1_000_000]) for d in docs])
        except Exception as e:  # every refusal, whatever its class, is a refusal
            out.update(ok=False, error=str(e).replace("\n", " "))
        print(json.dumps(out))


main()
