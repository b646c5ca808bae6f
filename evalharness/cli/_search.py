"""Where config groups come from besides the built-in `configs/`, and checks of the files found.

A user adds folders of their own (`suite/mine.yaml`, `model/my_model.yaml`) with Hydra's
`hydra.searchpath=[file://PATH]` (or `pkg://PACKAGE`) or `--config-dir PATH`; their options are
valid names like the built-in ones. A file that is no valid YAML is named with its error on one
line before Hydra composes it (whose report of the same is a long traceback).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from evalharness.errors import EvalharnessError

_DIR_FLAGS = ("--config-dir", "-cd")


def search_dirs(args: Sequence[str]) -> list[Path]:
    """The config folders that these command-line arguments add, in order."""
    found: list[Path] = []
    for i, arg in enumerate(args):
        key, eq, value = arg.partition("=")
        if key.lstrip("+") == "hydra.searchpath" and eq:
            found += [d for entry in _entries(arg) if (d := _folder(entry)) is not None]
        elif arg in _DIR_FLAGS and i + 1 < len(args):
            found.append(Path(args[i + 1]))
        elif key in _DIR_FLAGS and eq:
            found.append(Path(value))
    return found


def _entries(arg: str) -> list[str]:
    """The entries of a `hydra.searchpath=[…]` override, as Hydra's parser reads them."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        [override] = OverridesParser.create().parse_overrides([arg.lstrip("+")])
        value = override.value()
    except Exception:  # Hydra reports a malformed override itself
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _folder(entry: str) -> Path | None:
    """The folder of a search path entry: `file://PATH`, `pkg://PACKAGE` (or a bare path)."""
    if entry.startswith("pkg://"):
        try:
            spec = importlib.util.find_spec(entry.removeprefix("pkg://").replace("/", "."))
        except (ImportError, ValueError):
            return None
        locations = spec.submodule_search_locations if spec is not None else None
        return Path(next(iter(locations))) if locations else None
    return Path(entry.removeprefix("file://"))


def check_yaml(path: Path) -> None:
    """Raise EvalharnessError naming `path` if it is no YAML mapping (a config file must be)."""
    import yaml

    try:
        node = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "unreadable"
        raise EvalharnessError(f"{path}: invalid YAML{where}: {what}.") from exc
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise EvalharnessError(f"{path}: cannot be read as YAML: {exc}.") from exc
    if node is not None and not isinstance(node, dict):
        raise EvalharnessError(
            f"{path}: a config file holds settings (key: value), not a {type(node).__name__}."
        )


def launcher_options() -> list[str]:
    """The launchers `hydra/launcher=NAME` can name: Hydra's own and its installed plugins'."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    Plugins.instance()  # imports the installed plugins, which register their launchers
    names = ConfigStore.instance().list("hydra/launcher")
    return sorted(n.removesuffix(".yaml") for n in names)


def existing(folders: Sequence[Path], group: str, name: str) -> list[Path]:
    """The files of option `name` of `group` in these folders."""
    return [f for d in folders if (f := d / group / f"{name}.yaml").is_file()]
