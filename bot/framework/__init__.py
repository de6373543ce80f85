"""The one seam between Sopu and the Bot Framework SDK (botbuilder, archived).

Every import of ``botbuilder``, ``botframework`` and ``msrest`` lives in this package, with
every workaround the SDK needs (tests/unit/test_layers.py holds the line). The rest of
``bot/`` sees Sopu's own types only: a ``Click`` or a ``Message`` in (``bot.deps``), a card
dict out, and conversation references as plain dicts.

- ``endpoint``: the messaging endpoint: parse, gate, authenticate, de-duplicate, run a turn.
- ``handler``: the activity handler that turns activities into clicks and messages.
- ``adapter``: the CloudAdapter, its authentication and the invoke answer.
- ``activity``: reading an activity's JSON into botbuilder's model.
- ``connector``: the Bot Connector client for everything Sopu sends on its own.
- ``references``: conversation references as botbuilder writes them.

Moving to the Microsoft 365 Agents SDK replaces this package: its ``CloudAdapter`` and
``ActivityHandler`` take the places of ``adapter`` and ``handler`` (the same shapes), its
JWT middleware authenticates, and ``connector`` may stay as it is, since it speaks the Bot
Connector's REST API directly. Nothing outside this folder changes.
"""
