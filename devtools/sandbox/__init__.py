"""A real local MariaDB pair for the demo, the tests and the benchmarks (no Django in here)."""

from devtools.sandbox.faults import FAULTS
from devtools.sandbox.pair import SandboxError, SandboxPair

__all__ = ["FAULTS", "SandboxError", "SandboxPair"]
