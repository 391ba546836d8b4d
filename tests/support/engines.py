"""Firefox ESR and WebKitGTK, the engines besides Chromium, behind one small interface.

A test says ``with engine(name) as browser: browser.open(url)`` and then evaluates
expressions in the page (or its first iframe) and reads the page's errors, whichever
driver sits behind:

- Firefox ESR (Debian's ``firefox-esr``) over WebDriver BiDi, through puppeteer-core in
  ``firefox.mjs``: Debian has no geckodriver, and Playwright's patched Firefox cannot be
  downloaded here. Console errors and uncaught exceptions come as BiDi events from the
  page's first script on.
- WebKitGTK (Debian's ``webkit2gtk-driver``) through ``WebKitWebDriver`` and Selenium,
  in its MiniBrowser under a private Xvfb (it has no headless mode under automation).
  WebKitWebDriver 2.50 has no BiDi and no log endpoint, so errors are recorded by a
  listener installed right after each page load: an exception during the load itself is
  not seen, one in the player's later steps (bundle, worker, torrent, <video>) is.

Both profiles are fresh and throwaway. Both expose ``evaluate(expression)`` like a
Playwright page, so ``tests.support.site.wait_playing`` and ``wait_true`` drive them too.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

from .processes import ROOT

ENGINES = ("firefox", "webkit")

#: On top of puppeteer's own test prefs (no updates, telemetry, safe browsing, normandy).
#: ``ice.loopback``: without it Firefox leaves 127.0.0.1 out of its ICE candidates, the
#: only address in the loopback-only namespace (measured: no candidate at all).
FIREFOX_PREFS: dict[str, object] = {
    "media.peerconnection.ice.loopback": True,
    "media.autoplay.default": 0,  # allowed: the player is muted anyway, as a visitor's first view is
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "browser.region.network.url": "",
    "media.gmp-provider.enabled": False,
    "toolkit.telemetry.enabled": False,
}

#: What evaluate() runs: an expression, or a function to call (as Playwright accepts), awaited.
_EVALUATE = "(async () => {{ const v = ({}); return typeof v === 'function' ? await v() : await v }})()"

#: WebKit: records errors after a page's load (see the module's docstring).
_RECORD_ERRORS = """
if (!window.engineErrors) {
  window.engineErrors = []
  const record = text => window.engineErrors.push(String(text))
  addEventListener('error', e => record(e.message || e.type))
  addEventListener('unhandledrejection', e => record(e.reason && e.reason.message || e.reason))
  const error = console.error.bind(console)
  console.error = (...args) => { record(args.join(' ')); error(...args) }
}
"""


class Engine(ABC):
    """One browser with one tab."""

    name: str
    version: str

    @abstractmethod
    def open(self, url: str) -> None:
        """Navigate the tab to ``url`` and wait for its load event."""

    @abstractmethod
    def evaluate(self, expression: str, frame: bool = False) -> Any:
        """The JSON value of ``expression`` in the page, or in its first iframe."""

    @abstractmethod
    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions of the current page so far."""

    @abstractmethod
    def close(self) -> None: ...

    def frame(self) -> _Frame:
        """The page's first iframe, with the same ``evaluate`` (for wait_playing)."""
        return _Frame(self)


class _Frame:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def evaluate(self, expression: str) -> Any:
        return self._engine.evaluate(expression, frame=True)


class Firefox(Engine):
    """Firefox gathers ICE candidates only on the interface of the default route (there is
    none in the namespace: "failed to find default addresses" in its nICEr log) unless the
    origin holds the camera or microphone permission, as Chromium does. No pref turns that
    off and BiDi cannot grant those two, so ``trusted`` origins get them from a permissions
    defaults file (``permissions.manager.defaultsUrl``), read once at start."""

    name = "firefox"

    def __init__(self, trusted: Sequence[str]) -> None:
        self._profile_extras = tempfile.TemporaryDirectory(prefix="videoswarm-firefox-")
        grants = Path(self._profile_extras.name) / "permissions.txt"
        grants.write_text(
            "".join(f"origin\t{kind}\t1\t{origin}\n" for origin in trusted for kind in ("camera", "microphone"))
        )
        prefs = {**FIREFOX_PREFS, "permissions.manager.defaultsUrl": grants.as_uri()}
        self._process = subprocess.Popen(
            ["node", str(ROOT / "tests/support/firefox.mjs"), json.dumps(prefs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.version = self._reply()["version"]

    def _reply(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Firefox driver ended (exit code {self._process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"Firefox: {reply['error']}")
        return reply

    def _ask(self, **request: object) -> Any:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return self._reply()["value"]

    def open(self, url: str) -> None:
        self._ask(open=url)

    def evaluate(self, expression: str, frame: bool = False) -> Any:
        return self._ask(evaluate=_EVALUATE.format(expression), frame=frame)

    def errors(self) -> list[str]:
        errors: list[str] = self._ask(errors=True)
        return errors

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._profile_extras.cleanup()


class WebKit(Engine):
    name = "webkit"

    def __init__(self) -> None:
        self._display = subprocess.Popen(
            ["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "1280x720x24"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._display.stdout is not None
        display = self._display.stdout.readline().strip()
        options = Options()
        options.binary_location = glob.glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")[0]
        options.add_argument("--automation")
        service = Service(executable_path="/usr/bin/WebKitWebDriver", env={**os.environ, "DISPLAY": f":{display}"})
        try:
            self._driver = webdriver.WebKitGTK(options=options, service=service)
        except BaseException:
            self._display.kill()
            raise
        self.version = str(self._driver.capabilities["browserVersion"])

    def open(self, url: str) -> None:
        self._driver.get(url)
        self._driver.execute_script(_RECORD_ERRORS)

    def evaluate(self, expression: str, frame: bool = False) -> Any:
        if frame:
            self._driver.switch_to.frame(0)
        try:
            return self._driver.execute_script("return " + _EVALUATE.format(expression))
        finally:
            if frame:
                self._driver.switch_to.default_content()

    def errors(self) -> list[str]:
        errors: list[str] = self._driver.execute_script("return window.engineErrors || []")
        return errors

    def close(self) -> None:
        try:
            self._driver.quit()
        finally:
            self._display.kill()
            self._display.wait()


@contextmanager
def engine(name: str, trusted: Sequence[str] = ()) -> Iterator[Engine]:
    """A fresh ``firefox`` or ``webkit``, closed afterwards. ``trusted`` origins (with the
    port) may use WebRTC on loopback, as Chromium's camera/microphone grant allows."""
    browser: Engine = Firefox(trusted) if name == "firefox" else WebKit()
    try:
        yield browser
    finally:
        browser.close()
