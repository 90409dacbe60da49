"""The registry of resource kinds: a kind is one module and one line here.

The engine receives these and never imports one; it orders them by what each depends on.
"""

from __future__ import annotations

from revox_sync.engine.kind import ResourceKind, in_dependency_order
from revox_sync.kinds import phone_number, voice
from revox_sync.kinds.assistant import kind as assistant

KINDS: tuple[ResourceKind, ...] = in_dependency_order(
    [
        assistant.KIND,
        phone_number.KIND,
        voice.KIND,
    ]
)
