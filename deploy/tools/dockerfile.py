"""A small Dockerfile reader shared by lint-dockerfile.py, runtime-deps.py and replay.py.

Handles what the project's Dockerfile uses: comments, `\\` line continuations, JSON (exec) and
shell forms, `--flag=value` options (COPY --from=..., FROM --platform=...), ARG substitution of
`${NAME}`/`$NAME` in FROM/LABEL/COPY, and stages (`FROM image AS name`). Heredocs are refused.
"""

import json
import re
import shlex


class DockerfileError(Exception):
    pass


class Instruction:
    def __init__(self, lineno, keyword, rest):
        self.lineno = lineno
        self.keyword = keyword.upper()
        self.rest = rest.strip()
        self.flags = {}
        text = self.rest
        if self.keyword in ("COPY", "ADD", "FROM", "RUN"):
            while True:
                m = re.match(r"--([a-z-]+)(?:=(\S+))?\s+", text)
                if not m:
                    break
                self.flags[m.group(1)] = m.group(2) if m.group(2) is not None else True
                text = text[m.end():]
        self.args = text

    def exec_form(self):
        """The JSON array of an exec-form instruction, or None for the shell form."""
        if not self.args.startswith("["):
            return None
        try:
            value = json.loads(self.args)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None

    def __repr__(self):
        return f"{self.lineno}: {self.keyword} {self.rest}"


class Stage:
    def __init__(self, index, base, name, from_instr):
        self.index = index
        self.base = base
        self.name = name
        self.from_instr = from_instr
        self.instructions = []

    def find(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text):
    instructions = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [line.rstrip()]
        while parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1]
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1  # comment and empty lines inside a continuation are dropped, as Docker does
            if i >= len(lines):
                break
            parts.append(lines[i].rstrip())
            i += 1
        joined = "".join(parts)  # Docker removes the escaped newline and joins the lines
        m = re.match(r"\s*([A-Za-z]+)\s*(.*)", joined, re.S)
        if not m:
            raise DockerfileError(f"line {lineno}: cannot parse {stripped!r}")
        if "<<" in m.group(2) and m.group(1).upper() in ("RUN", "COPY"):
            if re.search(r"<<-?\s*['\"]?[A-Za-z_]+", m.group(2)):
                raise DockerfileError(f"line {lineno}: heredocs are not supported by deploy/tools")
        instructions.append(Instruction(lineno, m.group(1), m.group(2)))
    return instructions


def substitute(text, variables):
    def repl(m):
        name = m.group(1) or m.group(2)
        return variables.get(name, "")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, text)


def stages(instructions):
    """Splits into stages. ARGs before the first FROM are global defaults for FROM lines."""
    global_args = {}
    result = []
    for ins in instructions:
        if ins.keyword == "FROM":
            words = ins.args.split()
            if not words:
                raise DockerfileError(f"line {ins.lineno}: FROM without an image")
            base = substitute(words[0], global_args)
            name = None
            if len(words) >= 3 and words[1].upper() == "AS":
                name = words[2]
            elif len(words) != 1:
                raise DockerfileError(f"line {ins.lineno}: cannot parse FROM {ins.args!r}")
            result.append(Stage(len(result), base, name, ins))
        elif not result:
            if ins.keyword != "ARG":
                raise DockerfileError(f"line {ins.lineno}: {ins.keyword} before the first FROM")
            k, _, v = ins.args.partition("=")
            global_args[k.strip()] = v.strip().strip('"')
        else:
            result[-1].instructions.append(ins)
    if not result:
        raise DockerfileError("no FROM instruction")
    return result


def load(path):
    with open(path, encoding="utf-8") as fh:
        return stages(parse(fh.read()))


def label_pairs(args):
    """key=value pairs of a LABEL instruction (values may be quoted)."""
    out = {}
    for word in shlex.split(args, posix=True):
        if "=" not in word:
            raise DockerfileError(f"LABEL item without '=': {word!r}")
        k, _, v = word.partition("=")
        out[k] = v
    return out


def apt_installs(run_args):
    """Package names given to every `apt-get install` in a shell-form RUN body."""
    packages = []
    for cmd in re.split(r"&&|;|\|\||\n", run_args):
        words = cmd.split()
        if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words[1:]:
            after = words[words.index("install") + 1:]
            packages += [w for w in after if not w.startswith("-")]
    return packages
