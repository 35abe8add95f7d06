#!/usr/bin/env python3
"""Checks STYLE.md's rule "a block comment above each non-static function".

Usage: check_comments.py <source root> [folder ...]
       check_comments.py --self-test <fixture.c> <expected.txt>

Scans every .c and .h under the named folders (default: the layers and the
drivers) for function definitions at file scope that are not `static`, and
fails (exit 1) listing file:line:function for each one that has no comment of
its own directly above it. Exit 0 when every one has.

What counts as a definition: a `{` at file scope whose declarator ends with a
parameter list `( ... )` (trailing __attribute__((...)) allowed), with no `=`
at file scope before it. So multi-line signatures, a return type on its own
line, `LT_MUST_CHECK` or SAL annotations (`_Use_decl_annotations_`,
`_IRQL_requires_max_(...)`, `NTSTATUS APIENTRY`) in front are all one
definition, named by the identifier before its parameter list.

What counts as its comment: a comment (/* */ or a run of //) that ends on the
line directly above the definition's first line; only conditional-compilation
lines (#if, #ifdef, #ifndef, #elif, #else, #endif) may stand between. The
comment must be alone on its lines (a trailing comment after a declaration
belongs to that declaration), must not be the file's header comment (one that
starts on line 1), and must hold words (a divider such as /* ---- */ is not a
comment on anything).

An engine op (lt__op_*, the simulated dxgkrnl's handler of one trace event)
needs more: its comment must name the DDI(s) it leads to (DxgkDdi...) and the
contract rules (G1-G8, M1-M8 of reference/wddm-contract.md) it models or
checks, so a grep for a rule or a DDI finds the op.
"""
import os
import re
import sys

FOLDERS = ["base", "harness", "replay", "reports", "cli", "fuzz", "drivers"]
ENGINE_OP = re.compile(r"^lt__op_\w+$")
OP_NAMES_DDI = re.compile(r"\bDxgkDdi\w+")
OP_NAMES_RULE = re.compile(r"\b[GM][1-8]b?\b")
COND_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b")
ATTRIBUTE_NAMES = {"__attribute__", "__declspec", "__attribute", "_Pragma"}


class Comment:
    def __init__(self, start, end, alone_start, text):
        self.start, self.end, self.alone_start, self.text = start, end, alone_start, text
        self.alone_end = True


def lex(src):
    """Splits C source into code tokens (text, line) and comments.

    Preprocessor lines (with their continuations) yield no tokens; string and
    character literals become one opaque token so braces inside them do not
    count."""
    tokens, comments = [], []
    i, n, line = 0, len(src), 1
    line_has_code = False  # code seen on the current line before this point
    at_line_start = True
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
            line_has_code = False
            at_line_start = True
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if c == "#" and at_line_start:
            # A directive: skip to the end of the line, honouring continuations.
            while i < n and src[i] != "\n":
                if src[i] == "\\" and i + 1 < n and src[i + 1] == "\n":
                    line += 1
                    i += 2
                    continue
                if src.startswith("/*", i):  # a comment inside a directive
                    j = src.find("*/", i + 2)
                    j = n if j < 0 else j + 2
                    line += src.count("\n", i, j)
                    i = j
                    continue
                i += 1
            line_has_code = True
            continue
        at_line_start = False
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            text = src[i:j]
            end = line + text.count("\n")
            comments.append(Comment(line, end, not line_has_code, text))
            line = end
            i = j
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            prev = comments[-1] if comments else None
            if prev and prev.text.startswith("//") and prev.end == line - 1 and \
                    prev.alone_start and not line_has_code:
                prev.end, prev.text = line, prev.text + "\n" + src[i:j]
            else:
                comments.append(Comment(line, line, not line_has_code, src[i:j]))
            i = j
            continue
        # Code from here on this line: a comment ending on it is not alone.
        if comments and comments[-1].end == line:
            comments[-1].alone_end = False
        line_has_code = True
        if c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                if src[j] == "\\":
                    j += 1
                elif src[j] == "\n":
                    break
                j += 1
            tokens.append(("lit", line))
            i = j + 1
            continue
        m = re.compile(r"[A-Za-z_]\w*|\d[\w.]*").match(src, i)
        if m:
            tokens.append((m.group(0), line))
            i = m.end()
            continue
        tokens.append((c, line))
        i += 1
    return tokens, comments


def skip_back_group(decl, k):
    """decl[k] is ')': returns the index of its matching '('."""
    depth = 0
    while k >= 0:
        t = decl[k][0]
        if t == ")":
            depth += 1
        elif t == "(":
            depth -= 1
            if depth == 0:
                return k
        k -= 1
    return -1


def definition(decl):
    """If the file-scope tokens before a '{' declare a function, returns
    (name, is_static); else None."""
    if not decl or any(t == "=" for t, _ in paren_depth0(decl)):
        return None
    k = len(decl) - 1
    while k >= 0:
        if decl[k][0] != ")":
            return None
        op = skip_back_group(decl, k)
        if op <= 0:
            return None
        before = decl[op - 1][0]
        if before == "(" and op >= 2 and decl[op - 2][0] in ATTRIBUTE_NAMES:
            k = op - 3  # __attribute__((...)) after the parameter list
            continue
        if before in ATTRIBUTE_NAMES:
            k = op - 2
            continue
        if before == ")":  # a declarator returning a function pointer
            inner = skip_back_group(decl, op - 1)
            for j in range(inner + 1, op - 1):
                if re.match(r"[A-Za-z_]", decl[j][0]) and decl[j + 1][0] == "(":
                    return decl[j][0], any(t == "static" for t, _ in decl[:inner])
            return None
        if not re.match(r"[A-Za-z_]\w*$", before):
            return None
        if before in ("if", "while", "for", "switch", "return", "sizeof"):
            return None
        if decl[0][0] in ("typedef",):
            return None
        return before, any(t == "static" for t, _ in paren_depth0(decl[: op - 1]))
    return None


def paren_depth0(decl):
    depth = 0
    for tok in decl:
        if tok[0] == "(":
            depth += 1
        elif tok[0] == ")":
            depth -= 1
        elif depth == 0:
            yield tok


def functions(src):
    """Yields (first line, name, is_static) for each definition at file scope."""
    tokens, _ = lex(src)
    depth, decl = 0, []
    for tok in tokens:
        t = tok[0]
        if depth == 0:
            if t == "{":
                d = definition(decl)
                if d:
                    yield decl[0][1], d[0], d[1]
                decl = []
                depth = 1
            elif t == ";":
                decl = []
            else:
                decl.append(tok)
        else:
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
    return


def own_comment(lines, comments_by_end, first_line):
    """The comment of the function's own that ends directly above first_line,
    or None."""
    ln = first_line - 1
    while ln >= 1 and COND_DIRECTIVE.match(lines[ln - 1]):
        ln -= 1
    c = comments_by_end.get(ln)
    if c is None or not c.alone_start or not c.alone_end:
        return None
    if c.start == 1:
        return None  # the file's header comment
    return c if re.search(r"[A-Za-z]{2,}", c.text) else None


def missing_in(path, display):
    with open(path, encoding="utf-8", errors="replace") as f:
        src = f.read()
    lines = src.split("\n")
    _, comments = lex(src)
    by_end = {c.end: c for c in comments}
    out = []
    for first, name, is_static in functions(src):
        if is_static:
            continue
        c = own_comment(lines, by_end, first)
        if c is None:
            out.append((display, first, name))
        elif ENGINE_OP.match(name) and not (OP_NAMES_DDI.search(c.text) and
                                            OP_NAMES_RULE.search(c.text)):
            out.append((display, first, name + " (engine op: name its DDI and G/M rules)"))
    return out


def scan(root, folders):
    missing = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith((".c", ".h")):
                    p = os.path.join(dirpath, fn)
                    missing += missing_in(p, os.path.relpath(p, root))
    return missing


def self_test(fixture, expected_path):
    """The checker on a fixture of tricky shapes must find exactly the names
    listed in expected_path (one a line)."""
    got = [name.split(" ")[0] for _, _, name in missing_in(fixture, fixture)]
    with open(expected_path) as f:
        want = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    if got != want:
        print("check_comments self-test: got %s, want %s" % (got, want))
        return 1
    print("check_comments self-test: %d uncommented definitions found as expected" % len(got))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--self-test":
        return self_test(argv[2], argv[3])
    if len(argv) < 2:
        print(__doc__)
        return 2
    root = argv[1]
    missing = scan(root, argv[2:] or FOLDERS)
    for f, line, name in missing:
        print("%s:%d:%s" % (f, line, name))
    if missing:
        print("%d non-static function(s) without the comment STYLE.md asks for above them" % len(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
