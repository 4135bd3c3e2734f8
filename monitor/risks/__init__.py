"""Warnings before failures: what will break a pair days before it does. Pure: no Django, no sockets, no clock.

`checkup` holds the plain reading of both nodes that the slow checkup takes (`monitor/probe/checkup.py` reads
it); `rules.assess` turns it into `Risk`s. A new kind of warning is a rule module here plus what the probe reads
for it.
"""
