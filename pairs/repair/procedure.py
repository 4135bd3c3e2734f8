"""The shape of a generated procedure: numbered steps, each with what to run where and a check that proves it.

Pure data. A procedure (the rebuild, and any checklist built the same way) is a list of steps; each step says
where its commands run, what they do, which check the panel runs for it and what that check proves.
"""

from __future__ import annotations

from dataclasses import dataclass

# Where a block of commands runs: a node's host (shell), a node's server (SQL, as an administrator), or
# between the two hosts (copying files); the panel runs none of them.
SOURCE, TARGET, TRANSFER = "source", "target", "transfer"
SHELL, SQL = "sh", "sql"


@dataclass(frozen=True)
class Block:
    host: str  # SOURCE | TARGET | TRANSFER
    kind: str  # SHELL | SQL
    where: str  # the heading an operator reads: "On the primary's host (127.0.0.1), as root"
    text: str

    @property
    def lines(self) -> list[str]:
        """The commands or statements, one per line, without the comments."""
        return [line for line in self.text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "--"))]


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    does: str  # one or two sentences: what the step does and why
    blocks: tuple[Block, ...]
    check: str  # the check's key (judge.CHECKS)
    proves: str  # what a "done" of the check proves, plainly; and what it cannot see
    panel_action: bool = False  # done by a button of the panel (its own record), never marked done by hand


@dataclass(frozen=True)
class Procedure:
    kind: str  # "rebuild"
    title: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def numbered(self) -> list[tuple[int, Step]]:
        return list(enumerate(self.steps, start=1))
