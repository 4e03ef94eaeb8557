"""The browser test harness: the demo, served on its own database, driven by Debian's Chromium.

pytest-django's `live_server` empties its database after each test; a journey through the
application wants the demo as `seed_demo` makes it. So the harness migrates and seeds a
database of its own (a temporary SQLite file, or on PostgreSQL a database
`changning_aid_e2e_<pid>` that it drops afterwards), serves it with `manage.py runserver`
in a subprocess, and the tests talk to it over HTTP only: they need no `db` fixture.

Every journey shares the one demo for the session: a journey that changes data should
change what no other journey reads (its own station, its own recipient).

A journey::

    @pytest.mark.browser
    def test_something(page, login_as):
        login_as(page, "street_310105001")
        page.goto(url("/network/"))

Where /usr/bin/chromium is missing the journeys are skipped with a message, unless
REQUIRE_BROWSER or CI is set (as `.ci/run` does): then they fail.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import environ
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
RESULTS_DIR = PROJECT_DIR / "test-results"
CHROMIUM = "/usr/bin/chromium"
# Flags for a machine without a network beyond loopback and without a screen.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Changning-2023")
SERVER_START_TIMEOUT = 60
COMMAND_TIMEOUT = 300


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def browser_required():
    """In CI (or with REQUIRE_BROWSER) a missing browser is a failure, not a skip."""
    return _flag("REQUIRE_BROWSER") or _flag("CI")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoDatabase:
    """A database for the demo, apart from the one the rest of the suite uses.

    On PostgreSQL (DATABASE_URL postgres://...) a database beside the configured one, created
    here and dropped afterwards; otherwise a SQLite file in a temporary folder.
    """

    def __init__(self, folder):
        self.configured_url = os.environ.get("DATABASE_URL", "")
        self.config = environ.Env.db_url_config(self.configured_url or "sqlite://:memory:")
        self.is_postgres = self.config["ENGINE"].endswith("postgresql")
        if self.is_postgres:
            self.name = f"changning_aid_e2e_{os.getpid()}"
            self.url = urlsplit(self.configured_url)._replace(path=f"/{self.name}").geturl()
        else:
            self.name = str(Path(folder) / "e2e.sqlite3")
            self.url = f"sqlite:///{self.name}"

    def _admin_connection(self):
        import psycopg2

        connection = psycopg2.connect(
            dbname="postgres",
            user=self.config.get("USER") or None,
            password=self.config.get("PASSWORD") or None,
            host=self.config.get("HOST") or None,
            port=self.config.get("PORT") or None,
        )
        connection.autocommit = True
        return connection

    def _execute(self, statement):
        connection = self._admin_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def create(self):
        if self.is_postgres:
            self.drop()
            self._execute(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        if self.is_postgres:
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _manage(*args, env, log, timeout=COMMAND_TIMEOUT):
    """Run a management command for the demo; its output goes to the harness log."""
    log.write(f"\n$ manage.py {' '.join(args)}\n")
    log.flush()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed; see {log.name}:\n{_tail(log.name)}")


def _tail(path, lines=20):
    with open(path, encoding="utf-8", errors="replace") as file:
        return "".join(file.readlines()[-lines:])


def _wait_until_serving(url, server, log_path):
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"the demo server stopped at start; see {log_path}:\n{_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the demo server did not answer within {SERVER_START_TIMEOUT}s")


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's Chromium; skips (or fails where a browser is required) when it is missing."""
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        message = (
            f"Chromium not found at {CHROMIUM}: browser tests need Debian's chromium and "
            "fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)"
        )
        if browser_required():
            pytest.fail(f"{message}; REQUIRE_BROWSER/CI is set, so this is a failure")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def demo_server(chromium_path):
    """The base URL of the demo (migrated and seeded), served for the whole session."""
    RESULTS_DIR.mkdir(exist_ok=True)
    log_path = RESULTS_DIR / "e2e-server.log"
    folder = tempfile.mkdtemp(prefix="changning_aid_e2e_")
    database = DemoDatabase(folder)
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "DEBUG": "on",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        # The journeys log in with the password alone; the second factor has tests of its own.
        "OTP_REQUIRED_ROLES": "",
        # Photos and evidence the journeys upload go with the demo's database, not media/.
        "MEDIA_ROOT": str(Path(folder) / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = None
    with log_path.open("w", encoding="utf-8") as log:
        try:
            database.create()
            _manage("migrate", "--no-input", env=env, log=log)
            _manage("seed_demo", env=env, log=log)
            log.write(f"\n$ manage.py runserver 127.0.0.1:{port} --noreload\n")
            log.flush()
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=PROJECT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            _wait_until_serving(f"{base_url}/accounts/login/", server, log_path)
            yield base_url
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            database.drop()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def url(demo_server):
    """`url("/network/")`: an absolute URL of the demo server."""

    def _url(path):
        return f"{demo_server}{path}"

    return _url


# The browser lives for the e2e package only: Playwright's sync API leaves an event loop
# running in the thread, and Django refuses database work in such a thread, so it must be
# gone before any test with a database runs.
@pytest.fixture(scope="package")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser tab (its own cookies) at a desktop size, in Chinese."""
    context = browser.new_context(
        base_url=demo_server,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1366, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def new_tab(browser, demo_server):
    """`new_tab()`: another tab with cookies of its own, so that two users work side by side;
    `new_tab(width=375, height=812, mobile=True)` is a phone. Closed after the test."""
    contexts = []

    def _new_tab(*, width=1366, height=900, mobile=False):
        context = browser.new_context(
            base_url=demo_server,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield _new_tab
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def login_as(demo_server):
    """`login_as(page, "bureau")`: log the tab in as a demo user, through the login form."""

    def _login_as(page, username, password=DEMO_PASSWORD):
        page.goto(f"{demo_server}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.locator("form [type=submit]").first.click()
        if "/accounts/login/" in page.url:
            raise AssertionError(f"could not log in as {username!r}: still at {page.url}")
        return page

    return _login_as


@pytest.fixture
def screenshot():
    """`screenshot(page, "overview")`: a full-page PNG under test-results/."""

    def _screenshot(page, name):
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _screenshot
