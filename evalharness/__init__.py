"""evalharness: evaluate vision-language models and publish a static leaderboard.

The package import is light: heavy libraries (torch, transformers) load only when a model needs them.
"""

from evalharness._version import __version__

__all__ = ["__version__"]
