"""Which browser on which system a session began in, named as people know them ("Firefox" on
"Windows", "Safari" on "iPhone"): all that a session keeps of the browser's User-Agent header,
which says far more (versions, build numbers, the phone's model) than a user needs to tell their
sessions apart.

ua-parser reads the header with uap-core's regular expressions, which follow new browsers and
systems as they come; here only its names are made the ones people use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ua_parser

NAME_MAX = 50  # the columns' length: ua-parser's names are shorter
_READ_MAX = 1000  # a header's first characters name its browser and system; the rest is not read

# ua-parser tells a browser's mobile build apart ("Mobile Safari", "Chrome Mobile iOS"): to its
# user it is the same browser.
_MOBILE_BUILD = re.compile(r"^Mobile |(?: Mobile)?(?: iOS)?$")
_BROWSERS = {"IE": "Internet Explorer"}
_SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
# On iOS the device says more than the system's name, and is what people call it.
_APPLE_DEVICES = ("iPhone", "iPad", "iPod")


@dataclass(frozen=True)
class Browser:
    """A browser and the system it runs on; "" for what the header does not tell."""

    name: str
    platform: str


def recognise(user_agent: str) -> Browser:
    """The browser and system a User-Agent header names ("" for each one it does not)."""
    if not user_agent.strip():
        return Browser("", "")
    found = ua_parser.parse(user_agent[:_READ_MAX])
    name = platform = ""
    if found.user_agent is not None:
        family = _MOBILE_BUILD.sub("", found.user_agent.family) or found.user_agent.family
        name = _BROWSERS.get(family, family)
    if found.os is not None:
        platform = _SYSTEMS.get(found.os.family, found.os.family)
        if platform == "iOS" and found.device is not None:
            platform = next((d for d in _APPLE_DEVICES if found.device.family.startswith(d)), platform)
    return Browser(name[:NAME_MAX], platform[:NAME_MAX])
