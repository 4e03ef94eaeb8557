"""What one simulated user does, request by request: log in, then one action after another.

A `Visitor` follows its login's part of the plan (`benchmarks.load.setup` writes it: the
login's name, password and authenticator, and the pages of its scope) and the role's mix
(`benchmarks.load.mix`). It speaks HTTP through `http`, a callable given to it, so that the
same steps run under locust (`locustfile`) and under Django's test client (the tests):

    http(method, path, *, name, data=None, headers=None, expect) -> Reply

`name` groups the request in the figures (`<role>:<action>`); `expect(reply)` says what is
wrong with the answer (a sentence) or None when it is the one the step asks for, so that
locust counts the request as failed or not. Nothing follows a redirect by itself: a step
asks for the page it means to read.

It logs in as a person does: the login form with the password and, for a login with an
authenticator (the roles of `OTP_REQUIRED_ROLES`, bureau staff by default), the code the
authenticator shows now (RFC 6238, computed here). A code opens a login once only, so a
second login within the same 30 seconds waits for the next code, as a person would.

`record_visit` is the desk's quick form as desk.js posts it. Its findings carry a marker
unique to the run and the visit (`<run>-<login>-<user>-<n>`: two simulated users may share
a login when the data has fewer advisors than the load), and every outcome is reported to
`on_visit`, so that the fault test can hold the database to what each user was told:

- `saved`: 200 with the desk's "已记录" message (the visit is in the register);
- `refused`: 400, the form's errors (nothing saved, the user sees why);
- `failed`: a 5xx answer (nothing saved; desk.js shows "保存失败,请检查网络后重试");
- `no_answer`: no answer at all (desk.js shows the same message);
- `unexpected`: any other answer (a redirect to the login page, a refusal).
"""

import hashlib
import hmac
import random
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from benchmarks.load import mix

# The words of templates/500.html: an error answer carrying them is the Chinese error page.
ERROR_PAGE_MARK = "系统出错"
# The desk's message after a visit is logged (visits.desk_views._recorded_message).
RECORDED_MARK = "已记录"
PARTIAL_HEADER = "X-Desk-Partial"
TOTP_STEP = 30
TOTP_DIGITS = 6

SAVED, REFUSED, FAILED, NO_ANSWER, UNEXPECTED = (
    "saved",
    "refused",
    "failed",
    "no_answer",
    "unexpected",
)
# The outcomes after which the user knows the visit was not saved.
TOLD_NOT_SAVED = frozenset({REFUSED, FAILED, NO_ANSWER})

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_VALUE = re.compile(r'\bvalue="([^"]*)"')
_RECIPIENT = re.compile(r'data-recipient="(\d+)"')
_MESSAGE = re.compile(r"data-desk-message[^>]*>([^<]*)<")


@dataclass
class Reply:
    """An answer as the steps read it: status 0 when none came (`error` says why)."""

    status: int
    text: str = ""
    location: str = ""
    error: str = ""


def totp(key_hex, at, step=TOTP_STEP, digits=TOTP_DIGITS):
    """The code an authenticator holding `key_hex` shows at the Unix time `at` (RFC 6238,
    HMAC-SHA1, as django-otp's TOTP devices compute it)."""
    counter = int(at // step)
    mac = hmac.new(bytes.fromhex(key_hex), counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


def csrf_token(html):
    found = _CSRF.search(html or "")
    return found.group(1) if found else ""


def input_value(html, name):
    """The value of the form field `name` (an <input>) in `html`, or ""."""
    for tag in _INPUT.findall(html or ""):
        if f'name="{name}"' in tag:
            found = _VALUE.search(tag)
            return found.group(1) if found else ""
    return ""


def desk_recipients(html):
    """The people listed on the desk (their ids, in the order shown)."""
    return [int(pk) for pk in _RECIPIENT.findall(html or "")]


def desk_message(html):
    found = _MESSAGE.search(html or "")
    return found.group(1).strip() if found else ""


def is_error_page(reply):
    return ERROR_PAGE_MARK in (reply.text or "")


def visit_outcome(reply):
    """What the user was told of a quick visit form's POST (see the module's list)."""
    if reply.status == 200 and RECORDED_MARK in desk_message(reply.text):
        return SAVED
    if reply.status == 400:
        return REFUSED
    if reply.status >= 500:
        return FAILED
    if reply.status == 0:
        return NO_ANSWER
    return UNEXPECTED


def expect_status(status):
    def expect(reply):
        if reply.status == status:
            return None
        if reply.status == 0:
            return f"没有应答:{reply.error}"
        if reply.location:
            return f"HTTP {reply.status} → {reply.location}"
        return f"HTTP {reply.status}"

    return expect


def expect_saved(reply):
    if visit_outcome(reply) == SAVED:
        return None
    return expect_status(200)(reply) or "没有“已记录”的提示"


class Visitor:
    """One simulated user: its login (a dict of the plan's `logins`) and its steps."""

    def __init__(
        self,
        login,
        plan,
        http,
        *,
        run_id="load",
        serial=1,
        rng=None,
        sleep=time.sleep,
        clock=time.time,
        on_visit=None,
    ):
        self.login = login
        self.role = login["role"]
        self.plan = plan
        self.http = http
        self.run_id = run_id
        self.serial = serial
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.clock = clock
        self.on_visit = on_visit
        self.logged_in = False
        self.last_code_step = None
        self.visits = 0
        # What the desk showed last: the form's token and date, and the people listed.
        self.token = ""
        self.today = ""
        self.people = []

    def name(self, action):
        return f"{self.role}:{action}"

    # Logging in ---------------------------------------------------------------------------

    def code(self):
        """The authenticator's current code; a code already used waits for the next one."""
        now = self.clock()
        step = int(now // TOTP_STEP)
        if self.last_code_step is not None and step <= self.last_code_step:
            self.sleep((self.last_code_step + 1) * TOTP_STEP - now + 0.1)
            now = self.clock()
            step = int(now // TOTP_STEP)
        self.last_code_step = step
        return totp(self.login["totp_key"], now)

    def log_in(self):
        path = self.plan["login_path"]
        page = self.http("GET", path, name=self.name("login_page"), expect=expect_status(200))
        if page.status != 200:
            return False
        data = {
            "csrfmiddlewaretoken": csrf_token(page.text),
            "username": self.login["username"],
            "password": self.plan["password"],
        }
        if self.login.get("totp_key"):
            data["otp_token"] = self.code()

        def expect(reply):
            if reply.status == 302 and urlsplit(reply.location).path != path:
                return None
            if reply.status == 200:
                return "登录未成功(登录页面再次显示)"
            return expect_status(302)(reply)

        reply = self.http("POST", path, name=self.name("login"), data=data, expect=expect)
        self.logged_in = expect(reply) is None
        return self.logged_in

    # Steps --------------------------------------------------------------------------------

    def step(self):
        """One click: logs in first (again, after a session was lost), else the next action."""
        if not self.logged_in:
            self.log_in()
            return "login"
        action = mix.choose_action(self.role, self.rng)
        getattr(self, f"do_{action}", self.do_page)(action)
        return action

    def _path(self, action):
        return self.rng.choice(self.login["pages"][action])

    def _read(self, reply):
        """A redirect to the login page means the session is gone: log in at the next step."""
        if reply.status == 302 and urlsplit(reply.location).path == self.plan["login_path"]:
            self.logged_in = False
        return reply

    def do_page(self, action, headers=None):
        reply = self.http(
            "GET",
            self._path(action),
            name=self.name(action),
            headers=headers,
            expect=expect_status(200),
        )
        return self._read(reply)

    def do_desk(self, action="desk"):
        reply = self.do_page(action)
        if reply.status == 200:
            self.token = csrf_token(reply.text) or self.token
            self.today = input_value(reply.text, "visited_on") or self.today
            self.people = desk_recipients(reply.text)
        return reply

    def do_desk_search(self, action):
        return self.do_page(action, headers={PARTIAL_HEADER: "1"})

    def do_record_visit(self, action):
        """The desk's quick form for one of the people the desk lists, as desk.js posts it."""
        if not (self.token and self.today and self.people):
            # The advisor is not on the desk yet: open it first.
            self.do_desk()
            if not (self.token and self.today and self.people):
                return None
        self.visits += 1
        marker = f"{self.run_id}-{self.login['username']}-{self.serial}-{self.visits}"
        recipient = self.rng.choice(self.people)
        form = self.plan["visit_form"]
        result = form["failed_result"] if self.rng.random() < 0.05 else form["result"]
        data = {
            "csrfmiddlewaretoken": self.token,
            "recipient": str(recipient),
            "visited_on": self.today,
            "method": self.rng.choice(form["methods"]),
            "result": result,
            "findings": f"负载测试 {marker}",
            **form["checks"],
        }
        headers = {PARTIAL_HEADER: "1", "X-CSRFToken": self.token}
        started = self.clock()
        reply = self.http(
            "POST",
            self.plan["record_path"],
            name=self.name(action),
            data=data,
            headers=headers,
            expect=expect_saved,
        )
        self._read(reply)
        outcome = visit_outcome(reply)
        if self.on_visit is not None:
            self.on_visit(
                {
                    "marker": marker,
                    "username": self.login["username"],
                    "recipient": recipient,
                    "status": reply.status,
                    "outcome": outcome,
                    "error_page": is_error_page(reply),
                    "started": started,
                    "ended": self.clock(),
                }
            )
        return outcome
