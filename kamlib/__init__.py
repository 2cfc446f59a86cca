"""kamlib: the logic behind KAM Workbooks.

Key account management on evidence: the data contract and loaders, the economics of
each account (net revenue after discounts and cost to serve, lifetime value), the
decisions built on them (segmentation, key-account selection, plan benchmarks), and
the runner that executes the workbooks and publishes their reports.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kam-workbooks")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

