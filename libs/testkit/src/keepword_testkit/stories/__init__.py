"""Stories played through the whole running system: by `make demo` and by `tests/e2e/`.

`catalog` holds the stories as data, `player` acts them out through the public interfaces,
`feed` and `mailbox` read what comes out (events on the topics, emails in the catcher),
`checks` compares that with what each story expects, `describe` makes timeline lines.
"""

from .catalog import STORIES
from .checks import Finding, check_story
from .feed import EventFeed
from .mailbox import Mailbox
from .model import Story
from .player import Player, Stack, StoryFailed, StoryRun

__all__ = [
    "STORIES",
    "EventFeed",
    "Finding",
    "Mailbox",
    "Player",
    "Stack",
    "Story",
    "StoryFailed",
    "StoryRun",
    "check_story",
]
