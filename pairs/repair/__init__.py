"""Repair assistants: procedures generated for one pair, each step with a read-only check the panel runs.

`procedure` holds the shape every assistant shares (a list of steps, each with its commands and its check);
`rebuild` generates the rebuild of one node from the other; `judge` decides each check from what the nodes
answered (pure), `reading` asks the nodes (the monitor account, reads only); `offers` says which causes and
warnings offer which assistant; `service` opens a repair, runs checks and records every action.
"""
