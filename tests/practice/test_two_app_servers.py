"""Two app servers behind one PostgreSQL: what is written through one is read through the other.

The app keeps no state on a server's disk or in its memory between requests: sign-in sessions,
records and the audit trail all live in the one database. Two gunicorn processes on loopback
ports share this test's database; a therapist signs in on the first, logs a session there, reads
it back on the second, and signs out on the second, which signs them out on the first too.
"""

import os
import re
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.db import connection

from devtools.html_forms import SESSION_FORM_FIELD, FormFields, fill_session_form
from sessions.models import TreatmentSession
from tests.factories import PASSWORD, make_client, make_phase, make_therapist

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="several app servers share PostgreSQL; SQLite is a file on one machine"
)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """This test's own database (test_...), which the servers must share with it."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}/{db['NAME']}"


class AppServer:
    """One gunicorn process, as in production (DEBUG off), on a loopback port."""

    def __init__(self, port: int):
        self.port = port
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "practice.settings_test",
            "DATABASE_URL": database_url(),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "PRACTICE_REQUIRE_2FA": "0",
            "CONN_MAX_AGE": "0",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "practice.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1", "--timeout", "30", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_until_up(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app server on {self.port} stopped: {self.process.stderr.read().decode()[-2000:]}")
            try:
                status, _body, _location = Browser().request(self, "GET", "/healthz")
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
        raise RuntimeError(f"app server on {self.port} did not answer /healthz in {seconds} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()


class Browser:
    """Cookies kept here, on the client side, as a browser keeps them; the servers share nothing but the database."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, server: AppServer, method: str, path: str, data: dict | None = None):
        link = HTTPConnection("127.0.0.1", server.port, timeout=20)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            link.request(method, path, body=body, headers=headers)
            response = link.getresponse()
            content = response.read().decode()
        finally:
            link.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, content, response.getheader("Location", "")

    def sign_in(self, server: AppServer, username: str) -> None:
        _status, html, _location = self.request(server, "GET", "/accounts/login/")
        form = FormFields(html, "username")
        data = {**form.fields, "username": [username], "password": [PASSWORD]}
        status, _html, location = self.request(server, "POST", "/accounts/login/", data)
        assert status == 302 and "/accounts/login/" not in location, (status, location)


@pytest.fixture
def servers(transactional_db):
    pair = [AppServer(free_port()), AppServer(free_port())]
    try:
        for server in pair:
            server.wait_until_up()
        yield pair
    finally:
        for server in pair:
            server.stop()


def test_a_session_logged_through_one_server_is_read_through_the_other(servers):
    first, second = servers
    therapist = make_therapist("maria")
    client = make_client(therapists=[therapist], first_name="Alice", last_name="Ashby")
    make_phase(client)
    browser = Browser()
    browser.sign_in(first, "maria")

    # Signed in on the first server, known to the second: the sign-in session is in the database.
    status, html, _location = browser.request(second, "GET", "/clients/")
    assert status == 200 and "Ashby" in html

    form_path = f"/clients/{client.pk}/sessions/new/"
    status, html, _location = browser.request(first, "GET", form_path)
    assert status == 200
    marker = "Logged through the first app server"
    data = fill_session_form(FormFields(html, SESSION_FORM_FIELD), marker=marker)
    status, html, location = browser.request(first, "POST", form_path, data)
    assert status == 302, html[:2000]
    session_id = int(re.search(r"/sessions/(\d+)/", location).group(1))

    status, html, _location = browser.request(second, "GET", f"/sessions/{session_id}/")
    assert status == 200 and marker in html
    assert TreatmentSession.objects.filter(subjective=marker).count() == 1

    # Signing out on the second server ends the session on the first one too.
    status, html, _location = browser.request(second, "GET", "/clients/")
    form = FormFields(html, "csrfmiddlewaretoken")
    status, _html, _location = browser.request(second, "POST", "/accounts/logout/", form.fields)
    assert status == 302
    status, _html, location = browser.request(first, "GET", "/clients/")
    assert status == 302 and "/accounts/login/" in location
