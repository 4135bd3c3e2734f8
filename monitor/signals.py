"""What the monitor announces: other apps listen, the monitor imports none of them."""

from django.dispatch import Signal

# Sent once the transaction that wrote new transitions has committed; `transition_ids` lists them.
# The alerts app turns them into notifications.
transitions_recorded = Signal()
