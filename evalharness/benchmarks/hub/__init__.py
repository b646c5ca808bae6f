"""Real benchmarks from the Hugging Face hub, one module per benchmark, with their usual metrics.

Each adapter loads its split with `datasets` (lazily, on the first `samples()` call), from the
hub id it is usually published under or from a local copy in the same schema (`path=/folder`,
`data_files=...`), and reads images lazily from the dataset. `docs/benchmarks.md` lists, for
each one, the hub id, split, prompt and where its phrasing comes from, and the metric.

Importing this package does not import `datasets`.
"""

from evalharness.benchmarks.base import BenchmarkSettingError
from evalharness.benchmarks.hub._load import DatasetSchemaError, DatasetUnavailableError

__all__ = ["BenchmarkSettingError", "DatasetSchemaError", "DatasetUnavailableError"]
