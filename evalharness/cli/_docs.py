"""What `evalharness list` says of things, read from where they are documented.

A benchmark's settings are dataclass fields, documented the way the codebase documents
attributes: a string right below the field. Python keeps no such string at run time, so it is
read from the source. A suite or sweep says what it is in its config's header comment.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import textwrap


def setting_docs(cls: type) -> dict[str, str]:
    """Field name → the first sentence of its docstring, over the class and its bases (the
    nearest class's wins); fields without one are left out. Classes without source give none."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
        for field, after in itertools.pairwise(body):
            if not (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)):
                continue
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                docs[field.target.id] = first_sentence(str(after.value.value))
    return docs


def option_summary(group: str, name: str) -> str:
    """The first sentence of a config group option's header comment, or "" without one."""
    from evalharness.cli.config import configs_dir

    path = configs_dir() / group / f"{name}.yaml"
    if not path.exists():
        return ""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            lines.append(line.lstrip("# "))
    return first_sentence("\n".join(lines))


def first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence (not that of "e.g." or "i.e."), on one
    line."""
    text = " ".join(text.split())
    end = re.search(r"(?<!\be\.g)(?<!\bi\.e)\. ", text)
    return text[: end.start() + 1] if end else text
