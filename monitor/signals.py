"""What the monitor announces: other apps listen, the monitor imports none of them."""

from django.dispatch import Signal

# Sent once the transaction that wrote new transitions has committed; `transition_ids` lists them.
# The alerts app turns them into notifications.
transitions_recorded = Signal()

# Once the transaction of a checkup that raised or cleared warnings before failures has committed:
# `raised_ids` and `cleared_ids` list the monitor.models.PairRisk rows. The alerts app turns them into notifications.
risks_changed = Signal()

# Once the transaction that swapped a pair's roles has committed: `role_change_ids` lists the
# monitor.models.RoleChange rows. The alerts app turns them into notifications.
roles_changed = Signal()
