"""A small reader for the block-style YAML subset used by Prometheus rule and rule-test files.

Python's standard library has no YAML parser and the checks must run with the standard library
only, so this reads exactly what dashboards/alerts/*.yaml and dashboards/tests/*-test.yaml use:
block mappings and sequences (including `- key: value` items), plain, 'single' and "double"
quoted scalars, literal/folded block scalars (| |- > >-) and simple one-line flow collections
([a, b] and {k: v}). Anything else (anchors, tags, multi-line plain or quoted scalars, several
documents) raises YamlSubsetError with the line number, so an unsupported construct is reported
instead of being misread. Scalars stay strings; `key:` with nothing nested is None.
"""

import json
import re


class YamlSubsetError(ValueError):
    pass


_KEY_RE = re.compile(r"""^(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{}\[\],&*!|>][^:#]*?)\s*:(?:\s+|$)(?P<rest>.*)$""")


def _strip_comment(text):
    """Removes a trailing `# comment` that is outside quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if quote == '"' and ch == "\\":
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or text[i - 1] in " \t[{,:-"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


class _Line:
    __slots__ = ("num", "indent", "text", "raw")

    def __init__(self, num, indent, text, raw):
        self.num, self.indent, self.text, self.raw = num, indent, text, raw


def _scalar(text, num):
    text = text.strip()
    if text == "" or text == "~" or text == "null":
        return None
    if text[0] == '"':
        if len(text) < 2 or text[-1] != '"':
            raise YamlSubsetError(f"line {num}: unterminated or multi-line double-quoted scalar")
        try:
            return json.loads(text)
        except ValueError as e:
            raise YamlSubsetError(f"line {num}: bad double-quoted scalar: {e}") from None
    if text[0] == "'":
        if len(text) < 2 or text[-1] != "'":
            raise YamlSubsetError(f"line {num}: unterminated or multi-line single-quoted scalar")
        return text[1:-1].replace("''", "'")
    if text[0] in "[{":
        value, pos = _flow(text, 0, num)
        if text[pos:].strip():
            raise YamlSubsetError(f"line {num}: trailing text after flow collection")
        return value
    if text[0] in "&*!%@`":
        raise YamlSubsetError(f"line {num}: anchors, aliases, tags and directives are not supported")
    return text


def _flow(text, pos, num):
    """Parses a one-line flow collection starting at text[pos]; returns (value, next position)."""
    opener = text[pos]
    closer = "]" if opener == "[" else "}"
    pos += 1
    items = [] if opener == "[" else {}
    while True:
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos >= len(text):
            raise YamlSubsetError(f"line {num}: unterminated flow collection")
        if text[pos] == closer:
            return items, pos + 1
        if opener == "{":
            m = re.compile(r"\s*([^:,{}\[\]]+?)\s*:\s*").match(text, pos)
            if not m:
                raise YamlSubsetError(f"line {num}: bad flow mapping entry")
            key = _scalar(m.group(1), num)
            pos = m.end()
        value, pos = _flow_value(text, pos, num, closer)
        if opener == "[":
            items.append(value)
        else:
            items[key] = value
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == closer:
            continue
        else:
            raise YamlSubsetError(f"line {num}: expected ',' or '{closer}' in flow collection")


def _flow_value(text, pos, num, closer):
    if text[pos] in "[{":
        return _flow(text, pos, num)
    if text[pos] in "\"'":
        q = text[pos]
        end = pos + 1
        while end < len(text):
            if q == '"' and text[end] == "\\":
                end += 2
                continue
            if text[end] == q:
                if q == "'" and end + 1 < len(text) and text[end + 1] == "'":
                    end += 2
                    continue
                break
            end += 1
        return _scalar(text[pos:end + 1], num), end + 1
    end = pos
    while end < len(text) and text[end] not in "," + closer:
        end += 1
    return _scalar(text[pos:end], num), end


def _block_scalar(lines, i, parent_indent, style, num):
    """Collects a | or > block scalar whose header is on line i-1."""
    body = []
    block_indent = None
    while i < len(lines):
        ln = lines[i]
        if ln.text and ln.indent <= parent_indent:
            break
        if ln.text:
            if block_indent is None:
                block_indent = ln.indent
            if ln.indent < block_indent:
                raise YamlSubsetError(f"line {ln.num}: block scalar less indented than its first line")
            body.append(ln.raw[block_indent:].rstrip("\n"))
        else:
            body.append("")
        i += 1
    while body and body[-1] == "":
        body.pop()
    chomp_strip = style.endswith("-")
    if style.startswith("|"):
        value = "\n".join(body)
    else:
        # Folded: single newlines between non-empty lines become spaces.
        out, prev_blank = [], True
        for line in body:
            if line == "":
                out.append("\n")
                prev_blank = True
            else:
                if not prev_blank:
                    out.append(" ")
                out.append(line.strip() if not line.startswith(" ") else line)
                prev_blank = False
        value = "".join(out)
    if not chomp_strip and body:
        value += "\n"
    return value, i


def _parse_block(lines, i, indent):
    """Parses the node whose lines start at lines[i] with exactly `indent` columns."""
    ln = lines[i]
    if ln.text == "-" or ln.text.startswith("- "):
        return _parse_seq(lines, i, indent)
    return _parse_map(lines, i, indent)


def _next_content(lines, i):
    while i < len(lines) and not lines[i].text:
        i += 1
    return i


def _parse_value_after_key(lines, i, indent, rest, num):
    """The value of `key: rest` (line i-1 was the key line, at column `indent`)."""
    rest = rest.strip()
    if rest in ("|", "|-", ">", ">-"):
        return _block_scalar(lines, i, indent, rest, num)
    if rest in ("|+", ">+") or re.match(r"^[|>][0-9]", rest):
        raise YamlSubsetError(f"line {num}: block scalar indicator {rest!r} is not supported")
    if rest:
        return _scalar(rest, num), i
    j = _next_content(lines, i)
    if j < len(lines) and (lines[j].indent > indent or (
            lines[j].indent == indent and (lines[j].text == "-" or lines[j].text.startswith("- ")))):
        return _parse_block(lines, j, lines[j].indent)
    return None, i


def _parse_map(lines, i, indent):
    result = {}
    while True:
        i = _next_content(lines, i)
        if i >= len(lines) or lines[i].indent < indent:
            return result, i
        ln = lines[i]
        if ln.indent > indent:
            raise YamlSubsetError(f"line {ln.num}: unexpected indentation")
        if ln.text == "-" or ln.text.startswith("- "):
            return result, i
        m = _KEY_RE.match(ln.text)
        if not m:
            raise YamlSubsetError(f"line {ln.num}: expected 'key: value', got {ln.text!r}")
        key = _scalar(m.group("key"), ln.num)
        if key in result:
            raise YamlSubsetError(f"line {ln.num}: duplicate key {key!r}")
        value, i = _parse_value_after_key(lines, i + 1, indent, m.group("rest"), ln.num)
        result[key] = value


def _parse_seq(lines, i, indent):
    result = []
    while True:
        i = _next_content(lines, i)
        if i >= len(lines) or lines[i].indent < indent:
            return result, i
        ln = lines[i]
        if ln.indent > indent:
            raise YamlSubsetError(f"line {ln.num}: unexpected indentation in sequence")
        if not (ln.text == "-" or ln.text.startswith("- ")):
            return result, i
        content = ln.text[1:].lstrip()
        if not content:
            j = _next_content(lines, i + 1)
            if j < len(lines) and lines[j].indent > indent:
                value, i = _parse_block(lines, j, lines[j].indent)
            else:
                value, i = None, i + 1
            result.append(value)
            continue
        col = indent + (len(ln.text) - len(content))
        if _KEY_RE.match(content) or content.startswith("- "):
            # `- key: value`: the item is a block node starting at the content's column.
            lines[i] = _Line(ln.num, col, content, " " * col + content)
            value, i = _parse_block(lines, i, col)
        else:
            value, i = _scalar(content, ln.num), i + 1
        result.append(value)


def loads(text):
    lines = []
    for num, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlSubsetError(f"line {num}: tab in indentation")
        stripped = raw.strip()
        if stripped in ("---", "...") and num == 1:
            continue
        if stripped == "---":
            raise YamlSubsetError(f"line {num}: several documents are not supported")
        indent = len(raw) - len(raw.lstrip(" "))
        lines.append(_Line(num, indent, _strip_comment(raw.strip()), raw))
    i = _next_content(lines, 0)
    if i >= len(lines):
        return None
    value, i = _parse_block(lines, i, lines[i].indent)
    i = _next_content(lines, i)
    if i < len(lines):
        raise YamlSubsetError(f"line {lines[i].num}: unexpected content {lines[i].text!r}")
    return value


def load_file(path):
    with open(path, encoding="utf-8") as f:
        try:
            return loads(f.read())
        except YamlSubsetError as e:
            raise YamlSubsetError(f"{path}: {e}") from None
