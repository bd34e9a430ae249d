"""What operations tells the apps above it, which it may not import (see the floors in TEAM.md/STYLE.md).

``operation_changed`` is sent inside the service's transaction whenever an operation was created or
loaded, or a member was added or changed: the rooms app makes the operation's standard rooms then
(``messaging.apps``), so that no read ever has to create anything. Receivers must be idempotent.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``operation`` (an operations.models.Operation); sender is Operation.
operation_changed = Signal()
