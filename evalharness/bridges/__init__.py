"""Bridges to other evaluation harnesses: their tasks and models inside our runner.

`lmms` (`evalharness.bridges.lmms`) reaches lmms-eval: `benchmark=lmms:<task>` runs any of its
tasks, `model=lmms:<name>` any of its model classes. Each bridge imports its harness only when
used, so `import evalharness` never pays for it.
"""
