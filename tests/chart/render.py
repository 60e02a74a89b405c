#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""render.py - renders the lockwarden Helm chart without a helm binary.

    tests/chart/render.py CHART_DIR [-f values.yaml]... [--set a.b=c]... \
        [--set-string a.b=c]... [--name RELEASE] [--namespace NS] [--notes] \
        [--show-only templates/x.yaml] [--upgrade] [--lookup objects.yaml]

Prints every rendered manifest like `helm template` does (each one after
"---" and a "# Source: <chart>/templates/<file>" line), exits 0; on any error
prints "render: <template>:<line>: <message>" and exits 1.

This is not Helm. It implements the subset of Go text/template and Helm that
the chart uses, and fails loudly on everything else, so the chart cannot
drift into syntax that was never rendered by a test.

Supported syntax
  {{ pipeline }}  {{- trims the text before, -}} trims the text after
  {{/* comment */}}  (also with trim markers)
  pipelines: cmd | cmd | ...; the piped value becomes the last argument
  operands: .  .A.B  $  $x  $x.A.B  (pipeline)  (pipeline).A  "str"  `raw`
            numbers, true, false, nil
  variables: {{ $x := pipeline }}  {{ $x = pipeline }}
  if / else if / else / end, with / else / end,
  range over lists and maps (keys sorted), {{ range $i, $v := ... }}
  define / template / include
Built-in objects
  .Values .Release.{Name,Namespace,Service,IsInstall,IsUpgrade,Revision}
  .Chart.{Name,Version,AppVersion,Description,...}  .Template.{Name,BasePath}
  .Files.Get PATH  .Files.Glob PATTERN (with .AsConfig and range)
  .Capabilities.KubeVersion.{Version,Major,Minor}
Functions
  and or not eq ne lt le gt ge len index print printf
  quote squote default empty required fail coalesce ternary
  toYaml toJson indent nindent b64enc trunc trim trimSuffix trimPrefix
  lower upper replace contains hasPrefix hasSuffix join toString int
  list append dict set hasKey get keys has dig uniq sortAlpha splitList fromYaml
  kindIs sha256sum base include
  lookup: answers from the objects in --lookup FILE (YAML documents standing in for
  the cluster), else an empty map, as `helm template` does without a cluster
Not supported (an error): block, break, continue, else with, tpl, any
other function, and method calls other than the ones above.

Values: the chart's values.yaml, then each -f file, then each --set in
order. As in Helm, numbers from files are float64 and --set integers are int:
comparing the two, or printf %d of a float, fails as it does in Go. Maps merge
deeply; a null in an override removes the key (as Helm).
--set understands a.b=c, a[0]=c, a.b[1].c=d, lists {x,y}, escaped \\, and
\\., and types true/false/null/integers (--set-string keeps strings).
"""

import base64
import decimal
import hashlib
import json
import os
import re
import sys

import yaml


class RenderError(Exception):
    """An error with the template name and line it happened on."""

    def __init__(self, where, msg):
        super().__init__("%s: %s" % (where, msg))
        self.where = where
        self.msg = msg


# ---- lexing ---------------------------------------------------------------------

TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<pipe>\|)
  | (?P<comma>,)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<number>-?(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?))
  | (?P<var>\$[A-Za-z0-9_]*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<dot>\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""",
    re.VERBOSE,
)


def tokenize(src, where):
    """Splits the inside of an action into (kind, text) tokens."""
    toks = []
    pos = 0
    last_end = -1
    while pos < len(src):
        m = TOKEN_RE.match(src, pos)
        if not m:
            raise RenderError(where, "unexpected %r in action" % src[pos:pos + 10])
        kind = m.lastgroup
        text = m.group(kind)
        pos = m.end()
        if kind == "ws":
            continue
        adjacent = m.start() == last_end
        last_end = m.end()
        if kind == "field" and adjacent and toks and toks[-1][0] == "rparen":
            toks.append(("chain", text))  # (pipeline).Field
            continue
        if kind == "field" and adjacent and toks and toks[-1][0] == "var" \
                and "." not in toks[-1][1]:
            toks[-1] = ("var", toks[-1][1] + text)  # $x.Field
            continue
        toks.append((kind, text))
    return toks


def find_action_end(text, start, where):
    """Returns the index of the '}}' closing the action whose body starts at start."""
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                if text[i] == "\n":
                    raise RenderError(where, "unterminated quoted string")
                i += 1
        elif c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise RenderError(where, "unterminated raw string")
            i = j
        elif text.startswith("}}", i):
            return i
        i += 1
    raise RenderError(where, "unclosed action")


def lex(text, name):
    """Yields ('text', str, line) and ('action', tokens, line) items, trims applied."""
    items = []
    pos = 0
    line = 1
    while True:
        start = text.find("{{", pos)
        if start < 0:
            items.append(["text", text[pos:], line])
            break
        items.append(["text", text[pos:start], line])
        line += text.count("\n", pos, start)
        where = "%s:%d" % (name, line)
        body_start = start + 2
        trim_left = False
        if text.startswith("- ", body_start) or text.startswith("-\n", body_start) or \
                text.startswith("-\t", body_start):
            trim_left = True
            body_start += 1
        stripped = text[body_start:].lstrip(" \t\r\n")
        if stripped.startswith("/*"):
            cstart = text.index("/*", body_start)
            cend = text.find("*/", cstart + 2)
            if cend < 0:
                raise RenderError(where, "unclosed comment")
            end = text.find("}}", cend)
            if end < 0 or text[cend + 2:end].strip(" \t\r\n") not in ("", "-"):
                raise RenderError(where, "comment ends before closing delimiter")
            inner_end = end
            body = None
        else:
            end = find_action_end(text, body_start, where)
            inner_end = end
            body = text[body_start:end]
        trim_right = False
        tail = text[body_start:inner_end]
        if tail.endswith(" -") or tail.endswith("\n-") or tail.endswith("\t-"):
            trim_right = True
            if body is not None:
                body = body[:-1]
        if trim_left:
            items[-1][1] = items[-1][1].rstrip(" \t\r\n")
        if body is not None:
            items.append(["action", tokenize(body, where), line])
        line += text.count("\n", start, end + 2)
        pos = end + 2
        if trim_right:
            rest = text[pos:]
            stripped_rest = rest.lstrip(" \t\r\n")
            line += rest[:len(rest) - len(stripped_rest)].count("\n")
            pos += len(rest) - len(stripped_rest)
    return items


# ---- parsing ----------------------------------------------------------------------

FUNCS = set()  # filled below, the parser checks names against it
KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break",
            "continue", "nil", "true", "false"}


class Parser:
    def __init__(self, items, name, defines):
        self.items = items
        self.i = 0
        self.name = name
        self.defines = defines

    def where(self, line):
        return "%s:%d" % (self.name, line)

    def parse_list(self, stops):
        """Parses nodes until an action whose first token is in stops; returns (nodes, stop)."""
        nodes = []
        while self.i < len(self.items):
            kind, val, line = self.items[self.i]
            self.i += 1
            if kind == "text":
                if val:
                    nodes.append(("text", val))
                continue
            toks = val
            if not toks:
                raise RenderError(self.where(line), "missing value for command")
            head = toks[0]
            word = head[1] if head[0] == "ident" else None
            if word in stops:
                return nodes, (word, toks, line)
            if word in ("if", "with"):
                nodes.append(self.parse_branch(word, toks[1:], line))
            elif word == "range":
                nodes.append(self.parse_range(toks[1:], line))
            elif word == "define":
                if stops:
                    raise RenderError(self.where(line), "{{define}} must be at the top level")
                self.parse_define(toks[1:], line)
            elif word == "template":
                nodes.append(self.parse_template(toks[1:], line))
            elif word in ("else", "end"):
                raise RenderError(self.where(line), "unexpected {{%s}}" % word)
            elif word in ("block", "break", "continue"):
                raise RenderError(self.where(line), "{{%s}} is outside the supported subset" % word)
            else:
                nodes.append(("action", self.parse_pipeline(toks, line, allow_decl=True), line))
        if stops:
            raise RenderError(self.where(self.items[-1][2] if self.items else 0),
                              "unexpected EOF: missing {{end}}")
        return nodes, None

    def parse_branch(self, word, toks, line):
        pipe = self.parse_pipeline(toks, line, allow_decl=True)
        body, stop = self.parse_list({"else", "end"})
        else_body = []
        if stop[0] == "else":
            rest = stop[1][1:]
            if rest:
                if rest[0] != ("ident", "if") or word != "if":
                    raise RenderError(self.where(stop[2]),
                                      "{{else %s}} is outside the supported subset" % rest[0][1])
                else_body = [self.parse_branch("if", rest[1:], stop[2])]
                return (word, pipe, body, else_body, line)
            else_body, stop = self.parse_list({"end"})
            if stop[0] != "end":
                raise RenderError(self.where(stop[2]), "expected {{end}}")
        if len(stop[1]) != 1:
            raise RenderError(self.where(stop[2]), "unexpected tokens after end")
        return (word, pipe, body, else_body, line)

    def parse_range(self, toks, line):
        names = []
        if toks and toks[0][0] == "var":
            j = 0
            tmp = []
            while j < len(toks) and toks[j][0] == "var":
                tmp.append(toks[j][1])
                j += 1
                if j < len(toks) and toks[j][0] == "comma":
                    j += 1
                    continue
                break
            if j < len(toks) and toks[j][0] == "declare":
                names = tmp
                toks = toks[j + 1:]
                if len(names) > 2:
                    raise RenderError(self.where(line), "too many range variables")
        pipe = self.parse_pipeline(toks, line, allow_decl=False)
        body, stop = self.parse_list({"else", "end"})
        else_body = []
        if stop[0] == "else":
            if len(stop[1]) != 1:
                raise RenderError(self.where(stop[2]), "{{else ...}} in range is not supported")
            else_body, stop = self.parse_list({"end"})
        return ("range", names, pipe, body, else_body, line)

    def parse_define(self, toks, line):
        if len(toks) != 1 or toks[0][0] not in ("string", "raw"):
            raise RenderError(self.where(line), "define needs one quoted name")
        tname = unquote(toks[0][1])
        body, stop = self.parse_list({"end"})
        if len(stop[1]) != 1:
            raise RenderError(self.where(stop[2]), "unexpected tokens after end")
        self.defines[tname] = (body, self.name)

    def parse_template(self, toks, line):
        if not toks or toks[0][0] not in ("string", "raw"):
            raise RenderError(self.where(line), "template needs a quoted name")
        tname = unquote(toks[0][1])
        pipe = self.parse_pipeline(toks[1:], line, allow_decl=False) if len(toks) > 1 else None
        return ("template", tname, pipe, line)

    def parse_pipeline(self, toks, line, allow_decl):
        decl = None
        if len(toks) >= 2 and toks[0][0] == "var" and toks[1][0] in ("declare", "assign"):
            if not allow_decl:
                raise RenderError(self.where(line), "variable declaration not allowed here")
            decl = (toks[0][1], toks[1][0])
            toks = toks[2:]
        pos, cmds = self.parse_commands(toks, 0, line)
        if pos != len(toks):
            raise RenderError(self.where(line), "unexpected %s in pipeline" % toks[pos][1])
        if not cmds:
            raise RenderError(self.where(line), "missing value for command")
        return ("pipe", decl, cmds, line)

    def parse_commands(self, toks, pos, line):
        cmds = []
        while True:
            args = []
            while pos < len(toks) and toks[pos][0] not in ("pipe", "rparen"):
                pos, operand = self.parse_operand(toks, pos, line)
                args.append(operand)
            if not args:
                raise RenderError(self.where(line), "missing command in pipeline")
            cmds.append(args)
            if pos < len(toks) and toks[pos][0] == "pipe":
                pos += 1
                continue
            return pos, cmds

    def parse_operand(self, toks, pos, line):
        kind, text = toks[pos]
        where = self.where(line)
        pos += 1
        if kind == "lparen":
            pos, cmds = self.parse_commands(toks, pos, line)
            if pos >= len(toks) or toks[pos][0] != "rparen":
                raise RenderError(where, "unclosed left paren")
            pos += 1
            node = ("paren", ("pipe", None, cmds, line))
            if pos < len(toks) and toks[pos][0] == "chain":
                node = ("chain", node, toks[pos][1][1:].split("."))
                pos += 1
            return pos, node
        if kind == "field":
            return pos, ("field", text[1:].split("."))
        if kind == "dot":
            return pos, ("dot",)
        if kind == "var":
            return pos, ("var", text, [])
        if kind in ("string", "raw"):
            return pos, ("lit", unquote(text))
        if kind == "number":
            if re.fullmatch(r"-?[0-9]+", text):
                return pos, ("lit", int(text))
            if text.lower().startswith(("0x", "-0x")):
                return pos, ("lit", int(text, 16))
            return pos, ("lit", float(text))
        if kind == "ident":
            if text == "true":
                return pos, ("lit", True)
            if text == "false":
                return pos, ("lit", False)
            if text == "nil":
                return pos, ("lit", None)
            if text in KEYWORDS:
                raise RenderError(where, "unexpected keyword %s in operand" % text)
            if text not in FUNCS:
                raise RenderError(where, 'function "%s" not defined (outside the supported subset)'
                                  % text)
            return pos, ("func", text)
        raise RenderError(where, "unexpected %s in operand" % text)


def unquote(text):
    if text.startswith("`"):
        return text[1:-1]
    return json.loads(text)


# ---- values -------------------------------------------------------------------------

def truth(v):
    """Go template truthiness."""
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v != 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def to_str(v):
    """Prints a value as Go's fmt %v does (nil prints empty, as Helm shows it)."""
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, list):
        return "[" + " ".join(to_str(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join("%s:%s" % (k, to_str(v[k])) for k in sorted(v)) + "]"
    return str(v)


def go_float(v):
    """Go's %v of a float64 (strconv 'g', shortest): 2 -> "2", 1e6 -> "1e+06"."""
    if v != v or v in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(v)]
    if v == 0:
        return "0"
    sign, digits, exp = decimal.Decimal(repr(v)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exp += 1
    x = len(digits) + exp - 1
    neg = "-" if sign else ""
    if x < -4 or x >= 6:
        mant = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
        return "%s%se%s%02d" % (neg, mant, "-" if x < 0 else "+", abs(x))
    return neg + format(decimal.Decimal((0, tuple(digits), exp)), "f")


def yaml_ready(v):
    """Whole floats become ints, as Go's YAML encoder prints them (65532, not 65532.0)."""
    if isinstance(v, float) and v == v and v not in (float("inf"), float("-inf")) \
            and v == int(v):
        return int(v)
    if isinstance(v, dict):
        return {k: yaml_ready(x) for k, x in v.items()}
    if isinstance(v, list):
        return [yaml_ready(x) for x in v]
    return v


class LiteralDumper(yaml.SafeDumper):
    """YAML like sigs.k8s.io/yaml: block style, multi-line strings as literal blocks."""


def _str_representer(dumper, data):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


LiteralDumper.add_representer(str, _str_representer)


def to_yaml(v):
    if v is None:
        return "null"
    out = yaml.dump(yaml_ready(v), Dumper=LiteralDumper, default_flow_style=False, sort_keys=True,
                    allow_unicode=True, width=1 << 20)
    if out.endswith("\n...\n"):
        out = out[:-5]
    return out[:-1] if out.endswith("\n") else out


class Files:
    """The chart's .Files object: Get and Glob over every file below the chart."""

    def __init__(self, root):
        self.root = root
        self.paths = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            for f in sorted(filenames):
                p = f if rel == "." else os.path.join(rel, f).replace(os.sep, "/")
                if not p.startswith("templates/"):
                    self.paths.append(p)

    def tmpl_Get(self, path):
        full = os.path.join(self.root, path)
        if path not in self.paths or not os.path.isfile(full):
            return ""
        with open(full, encoding="utf-8") as f:
            return f.read()

    def tmpl_Glob(self, pattern):
        rx = glob_regex(pattern)
        return GlobResult((p, self.tmpl_Get(p)) for p in self.paths if rx.fullmatch(p))


def glob_regex(pattern):
    """gobwas/glob with '/' as separator: * and ? stay inside one path segment, ** does not."""
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = pattern.index("]", i)
            out += pattern[i:j + 1]
            i = j
        elif c == "{":
            j = pattern.index("}", i)
            out += "(?:" + "|".join(re.escape(a) for a in pattern[i + 1:j].split(",")) + ")"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out)


class GlobResult(dict):
    def tmpl_AsConfig(self):
        return to_yaml({os.path.basename(k): v for k, v in self.items()})

    def tmpl_AsSecrets(self):
        return to_yaml({os.path.basename(k): base64.b64encode(v.encode()).decode()
                        for k, v in self.items()})


class Capabilities:
    def __init__(self):
        self.KubeVersion = {"Version": "v1.30.0", "Major": "1", "Minor": "30",
                            "GitVersion": "v1.30.0"}


# ---- evaluation -----------------------------------------------------------------------

class Renderer:
    def __init__(self, defines, cluster=()):
        self.defines = defines
        self.include_depth = 0
        self.cluster = list(cluster)

    def lookup(self, api, kind, ns, name):
        """Helm's lookup over the objects given with --lookup: the object, or for an empty
        name {"items": [...]}; {} when nothing matches (as without a cluster)."""
        found = [o for o in self.cluster if o.get("apiVersion") == api and o.get("kind") == kind
                 and (not ns or (o.get("metadata") or {}).get("namespace") == ns)]
        if not name:
            return {"items": found} if found else {}
        for o in found:
            if (o.get("metadata") or {}).get("name") == name:
                return o
        return {}

    def render_nodes(self, nodes, dot, scopes, out, tname):
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                val = self.eval_pipe(node[1], dot, scopes, tname)
                if node[1][1] is None:
                    out.append(to_str(val))
            elif kind in ("if", "with"):
                _, pipe, body, else_body, line = node
                scopes.append({})
                val = self.eval_pipe(pipe, dot, scopes, tname)
                if truth(val):
                    self.render_nodes(body, val if kind == "with" else dot, scopes, out, tname)
                else:
                    self.render_nodes(else_body, dot, scopes, out, tname)
                scopes.pop()
            elif kind == "range":
                self.render_range(node, dot, scopes, out, tname)
            elif kind == "template":
                _, name, pipe, line = node
                arg = self.eval_pipe(pipe, dot, scopes, tname) if pipe else None
                out.append(self.include(name, arg, "%s:%d" % (tname, line)))
            else:
                raise RenderError(tname, "internal: unknown node %s" % kind)

    def render_range(self, node, dot, scopes, out, tname):
        _, names, pipe, body, else_body, line = node
        where = "%s:%d" % (tname, line)
        val = self.eval_pipe(pipe, dot, scopes, tname)
        if val is None:
            pairs = []
        elif isinstance(val, dict):
            pairs = [(k, val[k]) for k in sorted(val)]
        elif isinstance(val, (list, tuple)):
            pairs = list(enumerate(val))
        elif isinstance(val, int) and not isinstance(val, bool):
            raise RenderError(where, "range over an integer is outside the supported subset")
        else:
            raise RenderError(where, "range can't iterate over %s" % to_str(val))
        if not pairs:
            self.render_nodes(else_body, dot, scopes, out, tname)
            return
        for k, v in pairs:
            scope = {}
            if len(names) == 1:
                scope[names[0]] = v
            elif len(names) == 2:
                scope[names[0]] = k
                scope[names[1]] = v
            scopes.append(scope)
            self.render_nodes(body, v, scopes, out, tname)
            scopes.pop()

    def include(self, name, arg, where):
        if name not in self.defines:
            raise RenderError(where, 'no template "%s" associated with template' % name)
        self.include_depth += 1
        if self.include_depth > 100:
            raise RenderError(where, "include nesting too deep (recursion?)")
        body, origin = self.defines[name]
        out = []
        self.render_nodes(body, arg, [{"$": arg}], out, origin)
        self.include_depth -= 1
        return "".join(out)

    def eval_pipe(self, pipe, dot, scopes, tname):
        _, decl, cmds, line = pipe
        where = "%s:%d" % (tname, line)
        val = None
        have = False
        for args in cmds:
            val = self.eval_command(args, dot, scopes, where, val if have else _NOARG)
            have = True
        if decl:
            name, op = decl
            if op == "declare":
                scopes[-1][name] = val
            else:
                for s in reversed(scopes):
                    if name in s:
                        s[name] = val
                        break
                else:
                    raise RenderError(where, "undefined variable: %s" % name)
        return val

    def eval_command(self, args, dot, scopes, where, piped):
        first = args[0]
        if first[0] == "func":
            vals = [self.eval_arg(a, dot, scopes, where) for a in args[1:]]
            if piped is not _NOARG:
                vals.append(piped)
            return self.call(first[1], vals, dot, scopes, where, args[1:])
        # A field whose final element is a method takes the remaining words as arguments.
        if first[0] in ("field", "var", "chain"):
            rest = [self.eval_arg(a, dot, scopes, where) for a in args[1:]]
            if piped is not _NOARG:
                rest.append(piped)
            return self.eval_operand(first, dot, scopes, where, rest)
        if len(args) > 1 or piped is not _NOARG:
            raise RenderError(where, "can't give argument to non-function %s" % to_str(first))
        return self.eval_arg(first, dot, scopes, where)

    def eval_arg(self, a, dot, scopes, where):
        if a[0] == "func":
            return self.call(a[1], [], dot, scopes, where, [])
        return self.eval_operand(a, dot, scopes, where, None)

    def eval_operand(self, a, dot, scopes, where, call_args):
        kind = a[0]
        if kind == "lit":
            return a[1]
        if kind == "dot":
            return dot
        if kind == "paren":
            return self.eval_pipe(a[1], dot, scopes, where.rsplit(":", 1)[0])
        if kind == "field":
            return self.walk(dot, a[1], where, call_args, ".")
        if kind == "var":
            name = a[1]
            parts = []
            if "." in name:
                name, _, rest = name.partition(".")
                parts = rest.split(".")
            for s in reversed(scopes):
                if name in s:
                    base = s[name]
                    break
            else:
                if name == "$":
                    base = scopes[0].get("$")
                else:
                    raise RenderError(where, "undefined variable: %s" % name)
            if not parts:
                if call_args:
                    raise RenderError(where, "can't give argument to non-function %s" % name)
                return base
            return self.walk(base, parts, where, call_args, name + ".")
        if kind == "chain":
            base = self.eval_operand(a[1], dot, scopes, where, None)
            return self.walk(base, a[2], where, call_args, "(...).")
        raise RenderError(where, "internal: bad operand %r" % (a,))

    def walk(self, base, parts, where, call_args, prefix):
        cur = base
        for i, p in enumerate(parts):
            last = i == len(parts) - 1
            meth = getattr(cur, "tmpl_" + p, None)
            if meth is not None and callable(meth):
                args = call_args if last and call_args else []
                try:
                    cur = meth(*args)
                except TypeError as e:
                    raise RenderError(where, "wrong arguments for %s: %s" % (p, e))
                if last:
                    return cur
                continue
            if cur is None:
                raise RenderError(where, "nil pointer evaluating interface {}.%s (%s%s)"
                                  % (p, prefix, ".".join(parts)))
            if isinstance(cur, dict):
                cur = cur.get(p)
            elif hasattr(cur, p) and not p.startswith("_"):
                cur = getattr(cur, p)
            else:
                raise RenderError(where, "can't evaluate field %s in type %s"
                                  % (p, type(cur).__name__))
        if call_args:
            raise RenderError(where, "%s%s is not a method but has arguments"
                              % (prefix, ".".join(parts)))
        return cur

    def call(self, name, vals, dot, scopes, where, raw_args):
        fn = FUNCTIONS[name]
        if name == "lookup":
            if len(vals) != 4:
                raise RenderError(where, "lookup needs apiVersion, kind, namespace and name")
            return self.lookup(*vals)
        if name in ("include",):
            if len(vals) != 2:
                raise RenderError(where, "include needs a name and a value")
            return self.include(vals[0], vals[1], where)
        if name in ("and", "or"):
            # Go 1.18+ short-circuits and returns the deciding operand.
            if not vals:
                raise RenderError(where, "%s needs arguments" % name)
            for v in vals[:-1]:
                if (name == "and") != truth(v):
                    return v
            return vals[-1]
        try:
            return fn(*vals)
        except RenderError as e:
            raise RenderError(where, e.msg)
        except TypeError as e:
            raise RenderError(where, "wrong arguments for %s: %s" % (name, e))


_NOARG = object()


def f_eq(a, *bs):
    if not bs:
        raise RenderError("", "missing argument for comparison")
    for b in bs:
        _comparable(a, b)
        if a == b:
            return True
    return False


def _comparable(a, b):
    num = (int, float)
    if a is None or b is None:
        return
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            raise RenderError("", "incompatible types for comparison")
        return
    if isinstance(a, num) and isinstance(b, num):
        if type(a) is not type(b):
            # Helm reads values files as float64 and literals are int: Go refuses to
            # compare them, so a template must convert with int or float64 first.
            raise RenderError("", "incompatible types for comparison (%s and %s; use int)"
                              % (_go_type(a), _go_type(b)))
        return
    if type(a) is not type(b):
        raise RenderError("", "incompatible types for comparison")


def _go_type(v):
    return {int: "int", float: "float64", str: "string", bool: "bool"}.get(type(v), "?")


def f_cmp(op):
    def cmp(a, b):
        _comparable(a, b)
        if a is None or b is None:
            raise RenderError("", "invalid type for comparison")
        return op(a, b)
    return cmp


def f_printf(fmt, *args):
    out = []
    i = 0
    ai = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(fmt):
            raise RenderError("", "printf: trailing %")
        verb = fmt[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if verb not in "sdvqt":
            raise RenderError("", "printf verb %%%s is outside the supported subset" % verb)
        if ai >= len(args):
            out.append("%!" + verb + "(MISSING)")
            continue
        v = args[ai]
        ai += 1
        if verb == "q":
            out.append(json.dumps(to_str(v)))
        elif verb == "d":
            if not isinstance(v, int) or isinstance(v, bool):
                out.append("%!d(" + _go_type(v) + "=" + to_str(v) + ")")
            else:
                out.append(str(v))
        else:
            out.append(to_str(v))
    if ai < len(args):
        out.append("%!(EXTRA " + ", ".join(to_str(a) for a in args[ai:]) + ")")
    return "".join(out)


def f_empty(v):
    return not truth(v)


def f_default(d, *given):
    if not given or not truth(given[0]):
        return d
    return given[0]


def f_required(msg, *v):
    if not v or v[0] is None or (isinstance(v[0], str) and v[0] == ""):
        raise RenderError("", "execution error: " + msg)
    return v[0]


def f_quote(*args):
    return " ".join(json.dumps(to_str(a), ensure_ascii=False) for a in args if a is not None)


def f_squote(*args):
    return " ".join("'" + to_str(a) + "'" for a in args if a is not None)


def f_indent(n, s):
    pad = " " * n
    return pad + to_str(s).replace("\n", "\n" + pad)


def f_nindent(n, s):
    return "\n" + f_indent(n, s)


def f_trunc(n, s):
    s = to_str(s)
    if n < 0 and len(s) + n > 0:
        return s[len(s) + n:]
    if n >= 0 and len(s) > n:
        return s[:n]
    return s


def f_len(v):
    if v is None:
        return 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v)
    raise RenderError("", "len of type %s" % type(v).__name__)


def f_index(v, *keys):
    for k in keys:
        if v is None:
            return None
        if isinstance(v, dict):
            v = v.get(k)
        elif isinstance(v, list):
            if not isinstance(k, int) or not 0 <= k < len(v):
                raise RenderError("", "index out of range: %s" % to_str(k))
            v = v[k]
        else:
            raise RenderError("", "can't index item of type %s" % type(v).__name__)
    return v


def f_dict(*kv):
    if len(kv) % 2:
        raise RenderError("", "dict needs key/value pairs")
    return {to_str(kv[i]): kv[i + 1] for i in range(0, len(kv), 2)}


def f_int(v):
    if v is None:
        return 0
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return 0
    return int(v)


def f_kind_is(kind, v):
    names = {bool: "bool", int: "int", float: "float64", str: "string", list: "slice",
             dict: "map", type(None): "invalid"}
    return names.get(type(v), type(v).__name__) == kind


def f_set(d, k, v):
    if not isinstance(d, dict):
        raise RenderError("", "set on a non-map")
    d[to_str(k)] = v
    return d


def f_from_yaml(s):
    """Helm's fromYaml: one YAML document to a map; errors come back under "Error"."""
    try:
        v = yaml.safe_load(to_str(s))
    except yaml.YAMLError as e:
        return {"Error": str(e)}
    if v is None:
        return {}
    if not isinstance(v, dict):
        return {"Error": "not a map"}
    return as_float64(v)


def f_dig(*args):
    """sprig dig: dig KEY... DEFAULT MAP."""
    if len(args) < 3:
        raise RenderError("", "dig needs keys, a default and a map")
    keys, default, cur = args[:-2], args[-2], args[-1]
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            return default
        cur = cur[k]
    return cur


def f_fail(msg):
    raise RenderError("", "execution error: " + to_str(msg))


FUNCTIONS = {
    "and": None,
    "or": None,
    "include": None,
    "not": lambda v: not truth(v),
    "eq": f_eq,
    "ne": lambda a, b: not f_eq(a, b),
    "lt": f_cmp(lambda a, b: a < b),
    "le": f_cmp(lambda a, b: a <= b),
    "gt": f_cmp(lambda a, b: a > b),
    "ge": f_cmp(lambda a, b: a >= b),
    "len": f_len,
    "index": f_index,
    "print": lambda *a: "".join(to_str(x) for x in a),
    "printf": f_printf,
    "quote": f_quote,
    "squote": f_squote,
    "default": f_default,
    "empty": f_empty,
    "required": f_required,
    "fail": f_fail,
    "coalesce": lambda *a: next((x for x in a if truth(x)), None),
    "ternary": lambda a, b, c: a if truth(c) else b,
    "toYaml": to_yaml,
    "toJson": lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")),
    "indent": f_indent,
    "nindent": f_nindent,
    "b64enc": lambda s: base64.b64encode(to_str(s).encode()).decode(),
    "trunc": f_trunc,
    "trim": lambda s: to_str(s).strip(),
    "trimSuffix": lambda suf, s: to_str(s)[:-len(suf)] if suf and to_str(s).endswith(suf)
    else to_str(s),
    "trimPrefix": lambda pre, s: to_str(s)[len(pre):] if to_str(s).startswith(pre)
    else to_str(s),
    "lower": lambda s: to_str(s).lower(),
    "upper": lambda s: to_str(s).upper(),
    "replace": lambda old, new, s: to_str(s).replace(old, new),
    "contains": lambda sub, s: sub in to_str(s),
    "hasPrefix": lambda pre, s: to_str(s).startswith(pre),
    "hasSuffix": lambda suf, s: to_str(s).endswith(suf),
    "join": lambda sep, lst: sep.join(to_str(x) for x in (lst or [])),
    "toString": lambda v: "<nil>" if v is None else to_str(v),  # sprig strval: %v of nil
    "int": f_int,
    "list": lambda *a: list(a),
    "dict": f_dict,
    "hasKey": lambda d, k: isinstance(d, dict) and k in d,
    "get": lambda d, k: d.get(k, "") if isinstance(d, dict) else "",
    "keys": lambda *ds: sorted(k for d in ds for k in d),
    "has": lambda item, lst: item in (lst or []),
    "kindIs": f_kind_is,
    "sha256sum": lambda s: hashlib.sha256(to_str(s).encode()).hexdigest(),
    "lookup": None,
    "base": lambda p: os.path.basename(to_str(p).rstrip("/")) or ".",
    "set": f_set,
    "append": lambda lst, v: list(lst or []) + [v],
    "splitList": lambda sep, s: to_str(s).split(sep),
    "fromYaml": f_from_yaml,
    "dig": f_dig,
    "uniq": lambda lst: [x for i, x in enumerate(lst or []) if x not in (lst or [])[:i]],
    "sortAlpha": lambda lst: sorted(to_str(x) for x in (lst or [])),
}
FUNCS.update(FUNCTIONS)


# ---- values: files, --set, merging ------------------------------------------------------

def merge(base, over):
    """Helm's coalesce for user values: deep merge maps, null deletes, rest replaces."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def split_unescaped(s, sep):
    parts = []
    cur = ""
    depth = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def typed(v, as_string):
    if as_string:
        return v
    if v == "true":
        return True
    if v == "false":
        return False
    if v == "null":
        return None
    if re.fullmatch(r"-?[0-9]+", v) and (v == "0" or not v.lstrip("-").startswith("0")):
        return int(v)
    return v


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def parse_set(expr, values, as_string=False):
    """Applies one --set expression (a=b,c.d=e) to values in place."""
    for assignment in split_unescaped(expr, ","):
        if not assignment:
            continue
        key, eq, raw = assignment.partition("=")
        if not eq:
            raise RenderError("--set", "key %r has no value" % key)
        if raw.startswith("{") and raw.endswith("}"):
            inner = raw[1:-1]
            val = [typed(unescape(x), as_string) for x in split_unescaped(inner, ",")] \
                if inner else []
        else:
            val = typed(unescape(raw), as_string)
        path = []
        for seg in split_unescaped(key, "."):
            m = re.fullmatch(r"((?:[^\[\\]|\\.)*)((?:\[[0-9]+\])*)", seg)
            if not m or not m.group(1):
                raise RenderError("--set", "bad key %r" % key)
            path.append(unescape(m.group(1)))
            for idx in re.findall(r"\[([0-9]+)\]", m.group(2)):
                path.append(int(idx))
        set_path(values, path, val, key)


def set_path(cur, path, val, key):
    for i, p in enumerate(path):
        last = i == len(path) - 1
        nxt = None if last else ([] if isinstance(path[i + 1], int) else {})
        if isinstance(p, int):
            if not isinstance(cur, list):
                raise RenderError("--set", "%s: index on a non-list" % key)
            while len(cur) <= p:
                cur.append(None)
            if last:
                cur[p] = val
            else:
                if not isinstance(cur[p], type(nxt)):
                    cur[p] = nxt
                cur = cur[p]
        else:
            if not isinstance(cur, dict):
                raise RenderError("--set", "%s: key on a non-map" % key)
            if last:
                if val is None:
                    cur.pop(p, None)
                else:
                    cur[p] = val
            else:
                if not isinstance(cur.get(p), type(nxt)):
                    cur[p] = nxt
                cur = cur[p]


def as_float64(v):
    """Numbers from values files are float64 in Helm (YAML goes through JSON); --set
    integers stay int64."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, dict):
        return {k: as_float64(x) for k, x in v.items()}
    if isinstance(v, list):
        return [as_float64(x) for x in v]
    return v


def load_yaml_file(path):
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RenderError(path, "values file is not a map")
    return data


# ---- chart --------------------------------------------------------------------------------

def render_chart(chart_dir, value_files=(), sets=(), set_strings=(), name="lockwarden",
                 namespace="lockwarden", upgrade=False, cluster=()):
    """Returns ({template path: rendered text}, notes text or None)."""
    chart_meta = load_yaml_file(os.path.join(chart_dir, "Chart.yaml"))
    values = as_float64(load_yaml_file(os.path.join(chart_dir, "values.yaml")))
    for vf in value_files:
        values = merge(values, as_float64(load_yaml_file(vf)))
    for kind, expr in list(sets) + list(set_strings):
        parse_set(expr, values, as_string=(kind == "string"))

    chart_name = chart_meta.get("name")
    if not chart_name:
        raise RenderError("Chart.yaml", "name is required")
    chart_obj = {k[0].upper() + k[1:]: v for k, v in chart_meta.items()}
    tdir = os.path.join(chart_dir, "templates")
    files = sorted(f for f in os.listdir(tdir) if os.path.isfile(os.path.join(tdir, f)))
    for sub in sorted(os.listdir(tdir)):
        if os.path.isdir(os.path.join(tdir, sub)):
            raise RenderError("templates/" + sub, "template subdirectories are not supported")
    defines = {}
    parsed = {}
    for f in files:
        tname = "%s/templates/%s" % (chart_name, f)
        with open(os.path.join(tdir, f), encoding="utf-8") as fh:
            text = fh.read()
        items = lex(text, tname)
        nodes, _ = Parser(items, tname, defines).parse_list(set())
        parsed[f] = (tname, nodes)

    renderer = Renderer(defines, [as_float64(o) for o in cluster])
    files_obj = Files(chart_dir)
    out = {}
    notes = None
    for f in files:
        if f.startswith("_"):
            continue
        tname, nodes = parsed[f]
        top = {
            "Values": values,
            "Release": {"Name": name, "Namespace": namespace, "Service": "Helm",
                        "IsInstall": not upgrade, "IsUpgrade": upgrade, "Revision": 1},
            "Chart": chart_obj,
            "Files": files_obj,
            "Capabilities": Capabilities(),
            "Template": {"Name": tname, "BasePath": "%s/templates" % chart_name},
        }
        buf = []
        renderer.render_nodes(nodes, top, [{"$": top}], buf, tname)
        text = "".join(buf)
        if f == "NOTES.txt":
            notes = text
        elif f.endswith((".yaml", ".yml", ".tpl")):
            out["templates/" + f] = text
        else:
            raise RenderError(tname, "unexpected file in templates/ "
                                     "(want .yaml, _*.tpl, NOTES.txt)")
    return out, notes, chart_name


def manifests(rendered, chart_name, show_only=None):
    docs = []
    for path in sorted(rendered):
        if show_only and path != show_only:
            continue
        text = rendered[path]
        for part in re.split(r"(?m)^---[ \t]*$", text):
            if part.strip() and not all(l.strip().startswith("#") or not l.strip()
                                        for l in part.splitlines()):
                docs.append("---\n# Source: %s/%s\n%s\n" % (chart_name, path, part.strip("\n")))
    return "".join(docs)


def main(argv):
    args = argv[1:]
    chart = None
    value_files = []
    sets = []
    name = "lockwarden"
    namespace = "lockwarden"
    notes = False
    show_only = None
    upgrade = False
    lookups = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--values", "--set", "--set-string", "--name", "--namespace", "-n",
                 "--show-only", "-s", "--lookup"):
            if i + 1 >= len(args):
                print("render: %s needs an argument" % a, file=sys.stderr)
                return 2
            v = args[i + 1]
            i += 2
            if a in ("-f", "--values"):
                value_files.append(v)
            elif a == "--set":
                sets.append(("typed", v))
            elif a == "--set-string":
                sets.append(("string", v))
            elif a == "--name":
                name = v
            elif a == "--lookup":
                lookups.append(v)
            elif a in ("--namespace", "-n"):
                namespace = v
            else:
                show_only = v
            continue
        if a == "--notes":
            notes = True
        elif a == "--upgrade":
            upgrade = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif a.startswith("-") or chart is not None:
            print("render: unexpected argument %r" % a, file=sys.stderr)
            return 2
        else:
            chart = a
        i += 1
    if chart is None:
        print("usage: render.py CHART_DIR [-f values.yaml] [--set k=v] [--name N] "
              "[--namespace NS]", file=sys.stderr)
        return 2
    try:
        cluster = []
        for lf in lookups:
            with open(lf, encoding="utf-8") as f:
                cluster += [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
        rendered, notes_text, chart_name = render_chart(chart, value_files, sets, (), name,
                                                        namespace, upgrade, cluster)
    except RenderError as e:
        print("render: %s" % e, file=sys.stderr)
        return 1
    except (OSError, yaml.YAMLError) as e:
        print("render: %s" % e, file=sys.stderr)
        return 1
    sys.stdout.write(manifests(rendered, chart_name, show_only))
    if notes and notes_text:
        sys.stdout.write("\nNOTES:\n" + notes_text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
