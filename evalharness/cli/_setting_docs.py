"""What each setting of a class does, read from the docstring under its field in the source.

Settings are dataclass fields, documented the way the codebase documents attributes: a string
right below the field. Python keeps no such string at run time, so it is read from the source.
"""

from __future__ import annotations

import ast
import inspect
import itertools
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
                text = " ".join(str(after.value.value).split())
                end = text.find(". ")
                docs[field.target.id] = text[: end + 1] if end >= 0 else text
    return docs
