"""A real local MariaDB pair for the demo, the tests and the benchmarks (no Django in here)."""

from .faults import FAULTS
from .pair import SandboxError, SandboxPair

__all__ = ["FAULTS", "SandboxError", "SandboxPair"]
