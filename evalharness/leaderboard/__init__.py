"""The static leaderboard site: `build_site(results_dir, out_dir)`.

A folder of plain files that opens from disk (file://) with no server and no network: an index of
models × benchmarks with CIs and tie-group ranks, a page per benchmark and per model (with
provenance), a sample browser, a head-to-head page, and plotly charts (plotly.js shipped once).
"""

from evalharness.leaderboard._site import SiteError, build_site, build_site_from_frames

__all__ = ["SiteError", "build_site", "build_site_from_frames"]
