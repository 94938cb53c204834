"""Rate limits on sign-in and on the API (onaboard/web/accounts/ratelimit.py and its middleware)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import base_user
from django.db import OperationalError, connection, connections
from django.test import Client
from django.urls import reverse

from onaboard.web.accounts import ratelimit
from onaboard.web.accounts.models import ApiToken, RateLimitCounter, User
from onaboard.web.accounts.ratelimit import (
    Rate,
    rate_limit_hit,
    rate_limit_peek,
    rate_limit_refund,
    too_many_requests_message,
)
from tests.web.factories import PASSWORD

HELD_CLOCK = 36_000.0 * 100 + 30.0
"""A moment 30 s into a minute, and into every longer window these tests use (900, 600 and 3600 seconds)."""
LOGIN = reverse("accounts:login")
API_PATIENTS = "/api/patients"


@pytest.fixture
def held_clock(monkeypatch):
    """The limits' clock held still 30 s into every window: the windows are fixed, and a test's requests
    straddling a window's end were counted in two windows (a good token's sixth request in a minute was let
    through, once, in CI; so was the 21st refused token of a write)."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: HELD_CLOCK))
    return HELD_CLOCK


@pytest.fixture
def limits(settings, db, held_clock):
    """Small limits so a test reaches them quickly (the counters live in the test's database), on the held clock."""
    settings.RATE_LIMITS = {
        "login_address": "4/900",
        "login_account": "3/3600",
        "api_token": "5/60",
        "api_bad_token": "2/600",
    }
    settings.LOGIN_FAILURE_LIMIT = 100  # the lockout stays out of the way of these counts
    return settings.RATE_LIMITS


def test_a_rate_reads_count_per_seconds():
    """'20/900' is 20 events per 900-second window; anything else is refused with the format named."""
    assert Rate.parse("x", "20/900") == Rate(20, 900)
    for bad in ("20", "0/60", "a/b", "5/0"):
        with pytest.raises(ValueError, match="must look like 'N/seconds'"):
            Rate.parse("x", bad)


def test_the_counter_allows_up_to_the_rate_then_refuses_until_the_window_ends(limits):
    """Within one window the Nth event is allowed and the next refused; the next window starts afresh."""
    start = 9000.0  # the start of a 900-second window
    verdicts = [rate_limit_hit("login_address", "10.0.0.1", now=start + i) for i in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, True, False]
    assert verdicts[-1].retry_after == 900 - 4
    assert not rate_limit_peek("login_address", "10.0.0.1", now=start + 10).allowed
    assert rate_limit_peek("login_address", "10.0.0.2", now=start + 10).allowed
    assert rate_limit_hit("login_address", "10.0.0.1", now=start + 900).allowed


def test_the_message_says_how_long_to_wait():
    """The 429 message rounds the wait up to whole minutes."""
    assert str(too_many_requests_message(61)) == "Too many tries. Wait 2 minutes, then try again."
    assert str(too_many_requests_message(5)) == "Too many tries. Wait 1 minute, then try again."


def test_failed_sign_ins_for_one_account_are_limited_even_with_the_right_password(client, world, limits):
    """After 3 failures for one account name the page answers 429 with Retry-After, not checking the password."""
    nurse = world.users["nurse"]
    for _ in range(3):
        assert client.post(LOGIN, {"username": "nurse", "password": "wrong"}).status_code == 200
    response = client.post(LOGIN, {"username": nurse.username, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many tries. Wait" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(client, world, limits):
    """An address that failed 4 times, each on a different name, is refused for a fifth name too."""
    for name in ("a1", "a2", "a3", "a4"):
        assert client.post(LOGIN, {"username": name, "password": "wrong"}).status_code == 200
    response = client.post(LOGIN, {"username": "clinician", "password": PASSWORD})
    assert response.status_code == 429
    other_address = client.post(LOGIN, {"username": "clinician", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert other_address.status_code == 302


def test_behind_a_trusted_proxy_each_client_is_limited_alone(client, world, limits, settings):
    """Every request reaches the app from the proxy: its X-Forwarded-For names the client, so one client's failures
    lock out that client, not everyone behind the proxy, and a forged header from elsewhere changes nothing."""
    settings.ONABOARD_TRUSTED_PROXIES = frozenset({"10.0.0.10"})
    proxy = {"REMOTE_ADDR": "10.0.0.10"}
    for name in ("a1", "a2", "a3", "a4"):
        failed = client.post(LOGIN, {"username": name, "password": "wrong"}, **proxy, HTTP_X_FORWARDED_FOR="6.6.6.6")
        assert failed.status_code == 200
    forged = "6.6.6.6, 198.51.100.7"  # the attacker wrote its own header; nginx appended what it saw
    assert client.post(LOGIN, {"username": "a5"}, **proxy, HTTP_X_FORWARDED_FOR=forged).status_code == 200
    assert client.post(LOGIN, {"username": "a6"}, **proxy, HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 429
    clinician = {"username": "clinician", "password": PASSWORD}
    assert client.post(LOGIN, clinician, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.44").status_code == 302
    client.logout()
    not_a_proxy = {"REMOTE_ADDR": "6.6.6.6", "HTTP_X_FORWARDED_FOR": "192.0.2.99"}
    assert client.post(LOGIN, clinician, **not_a_proxy).status_code == 429  # the header is not believed


def test_successful_sign_ins_are_not_counted(client, world, limits):
    """Signing in and out more often than the limit is fine: only failures count."""
    for _ in range(6):
        assert client.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302
        client.logout()


def test_api_requests_are_limited_per_token(client, world, limits):
    """A token's sixth request in the minute gets 429 with Retry-After and a JSON detail; another token is fine."""
    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    _other, other_raw = ApiToken.issue(world.users["nurse"], "other")
    statuses = [client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["detail"].startswith("Too many tries.")
    assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {other_raw}").status_code == 200


def test_fhir_requests_with_a_token_count_against_the_same_limit(client, world, limits):
    """The FHIR endpoints take the same bearer tokens, so they share the token's budget: the sixth call is 429."""
    _token, raw = ApiToken.issue(world.users["clinician"], "ehr")
    everything = f"/fhir/Patient/{world.own_patient.external_id}/$everything"
    statuses = [client.get(everything, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert client.get(everything, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 429


def test_refused_tokens_are_limited_per_address(client, world, limits):
    """After 2 refused tokens from one address a third refused token from it gets 429; other addresses are fine."""
    for guess in ("onb_guess1", "onb_guess2"):
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {guess}").status_code == 401
    refused = client.get(API_PATIENTS, HTTP_AUTHORIZATION="Bearer onb_guess3")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    elsewhere = client.get(API_PATIENTS, HTTP_AUTHORIZATION="Bearer onb_guess3", REMOTE_ADDR="10.8.8.8")
    assert elsewhere.status_code == 401


def test_a_stale_token_does_not_lock_out_the_good_tokens_of_its_address(client, world, limits):
    """A script still sending a revoked token uses up its address's budget of refused tokens, but a good token from
    the same address (another script on the clinic's server) is never refused by that budget: only by its own."""
    stale, stale_raw = ApiToken.issue(world.users["nurse"], "old script")
    ApiToken.objects.filter(pk=stale.pk).update(revoked=True)
    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    for _ in range(2):
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {stale_raw}").status_code == 401
    assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {stale_raw}").status_code == 429
    statuses = [client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # the good token's own limit, 5 a minute
    assert rate_limit_peek("api_bad_token", "127.0.0.1").count == 2


@pytest.mark.parametrize(("method", "path"), [("post", "questionnaires"), ("put", "diary/2020-01-01")])
def test_refused_tokens_on_writes_are_limited_per_address_too(world, settings, held_clock, method, path):
    """With the deployment's limit (20 refused tokens per address in 10 minutes) a write with a made-up token is
    401, not a CSRF 403 that the limiter would not count: the 21st from one address is 429."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_bad_token": "20/600"}
    send = getattr(Client(enforce_csrf_checks=True), method)
    url = f"/api/patients/{world.own_patient.external_id}/{path}"
    statuses = [
        send(url, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer onb_guess{i}").status_code
        for i in range(21)
    ]
    assert statuses == [401] * 20 + [429]


def test_a_new_window_forgets_the_ended_ones(limits):
    """The first event of a window deletes the counters of windows that have ended; the current ones stay."""
    start = 9000.0
    rate_limit_hit("login_address", "10.0.0.1", now=start)
    rate_limit_hit("login_account", "someone", now=start)  # a 3600-second window, still running at start + 900
    assert RateLimitCounter.objects.count() == 2
    rate_limit_hit("login_address", "10.0.0.1", now=start + 900)
    assert RateLimitCounter.objects.count() == 2  # the first 900-second window is gone, its successor counted
    assert rate_limit_peek("login_account", "someone", now=start + 900).count == 1
    assert rate_limit_peek("login_address", "10.0.0.1", now=start).count == 0


def test_the_counter_keeps_no_subject_in_clear(limits):
    """Account names and tokens are stored as digests in the counter's key, never as given."""
    rate_limit_hit("login_account", "dr.whitfield")
    (key,) = RateLimitCounter.objects.values_list("key", flat=True)
    assert "whitfield" not in key
    assert key.startswith("rl:login_account:")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_events_are_each_counted(settings):
    """Eight requests counting at the same instant from eight connections end at exactly 8 (one atomic upsert
    each, no read-then-write), and the eighth sees the limit of 8 reached but not passed (PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are exercised on PostgreSQL; SQLite serialises writers itself")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_token": "8/60"}
    barrier = threading.Barrier(8)
    verdicts, errors = [], []

    def hit():
        try:
            barrier.wait()
            verdicts.append(rate_limit_hit("api_token", "shared-token", now=6000.0))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(v.count for v in verdicts) == list(range(1, 9))
    assert all(v.allowed for v in verdicts)
    assert not rate_limit_hit("api_token", "shared-token", now=6001.0).allowed


@pytest.mark.django_db(transaction=True)
def test_migration_0003_replaces_the_old_cache_table_with_the_counter_table():
    """A database migrated while the counters lived in a database cache (0002 created ``onaboard_rate_limits``)
    ends, after 0003, with the counter table and without the old one. The database is migrated forward to the
    latest migrations afterwards, so the tests after this one find the tables as they are."""
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("accounts", "0002_rate_limit_cache_table"), ("accounts", "0003_rate_limit_counters")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE onaboard_rate_limits (cache_key varchar(255) PRIMARY KEY, value text)")
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([after])
        tables = connection.introspection.table_names()
        assert RateLimitCounter._meta.db_table in tables
        assert "onaboard_rate_limits" not in tables
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_an_api_request_costs_the_limiter_one_statement(client, world, limits, monkeypatch):
    """Once its window's counter exists, a request with a good token (looked up first, by its digest) counts one use
    of its token: one upsert on the counter table, on one counter by its key, which neither counts, scans nor
    deletes; its address's budget of refused tokens is not touched."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6000.0))  # both requests in one window
    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    table = RateLimitCounter._meta.db_table
    statements = [query["sql"] for query in captured.captured_queries if table in query["sql"]]
    assert [statement.split()[0] for statement in statements] == ["INSERT"]
    assert "ON CONFLICT" in statements[0]
    assert "COUNT(" not in statements[0].upper()


def test_without_returning_the_count_is_read_back(limits):
    """Where the database cannot return columns from an insert (SQLite before 3.35), the upsert is followed by a
    read of the count, and the counter behaves the same."""
    with mock.patch.object(connection.features, "can_return_columns_from_insert", False):
        counts = [rate_limit_hit("login_account", "someone", now=7200.0).count for _ in range(4)]
        rate_limit_refund(rate_limit_hit("login_account", "someone", now=7200.0))
        assert rate_limit_hit("login_account", "someone", now=7200.0).count == 5
    assert counts == [1, 2, 3, 4]
    assert not rate_limit_peek("login_account", "someone", now=7300.0).allowed


def test_a_sign_in_refused_by_both_limits_says_the_longer_wait(client, world, limits):
    """When the address's and the name's failures are both used up, the 429 names the later end of the two windows:
    at the earlier one the try would still be refused."""
    moment = 3600 * 500 + 100.0  # 800 s left in the address's 900-second window, 3500 s in the name's hour
    with mock.patch.object(ratelimit, "time", SimpleNamespace(time=lambda: moment)):
        client.post(LOGIN, {"username": "someone", "password": "wrong"})
        for _ in range(3):
            client.post(LOGIN, {"username": "nurse", "password": "wrong"})
        response = client.post(LOGIN, {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 429
    assert response["Retry-After"] == "3500"
    assert str(too_many_requests_message(3500)) in response.content.decode()


def test_clearing_a_subject_forgets_its_counters_in_every_window_and_no_others(limits):
    """``rate_limit_clear`` removes one subject's counters of one limit, whatever their window; others stay."""
    rate_limit_hit("login_account", "nurse", now=3600.0)
    rate_limit_hit("login_account", "clinician", now=3600.0)
    rate_limit_hit("login_address", "nurse", now=3600.0)
    rate_limit_hit("login_account", "nurse", now=0.0)  # an ended window's counter, written last so it stays
    assert ratelimit.rate_limit_clear("login_account", "nurse") == 2
    assert rate_limit_peek("login_account", "nurse", now=3600.0).count == 0
    assert rate_limit_peek("login_account", "clinician", now=3600.0).count == 1
    assert rate_limit_peek("login_address", "nurse", now=3600.0).count == 1


def test_a_refund_gives_one_event_back_in_its_own_window(limits):
    """``rate_limit_refund`` takes one event off the window it was counted in, never below nothing, and not off a
    later window; a counter given back to nothing still knows its window has begun, so its next event does not
    clean up the ended windows again."""
    first = rate_limit_hit("login_address", "10.0.0.1", now=9000.0)
    second = rate_limit_hit("login_address", "10.0.0.1", now=9001.0)
    rate_limit_refund(first)
    assert rate_limit_peek("login_address", "10.0.0.1", now=9002.0).count == 1
    rate_limit_refund(second)
    rate_limit_refund(second)
    assert rate_limit_peek("login_address", "10.0.0.1", now=9002.0).count == 0
    ended = RateLimitCounter.objects.create(key="rl:login_address:ended:1", hits=1, expires="2000-01-01T00:00Z")
    assert rate_limit_hit("login_address", "10.0.0.1", now=9003.0).count == 1
    assert RateLimitCounter.objects.filter(key=ended.key).exists()  # no second clean-up in the window
    assert rate_limit_hit("login_address", "10.0.0.1", now=9900.0).count == 1  # the next window
    rate_limit_refund(first)
    assert rate_limit_peek("login_address", "10.0.0.1", now=9900.0).count == 1


def test_a_sign_in_refused_by_a_limit_is_not_counted(client, world, limits):
    """A try answered 429 was not checked, so it is not one more failure: the counters stay at the limit, and a
    success gives its count back."""
    for _ in range(2):
        assert client.post(LOGIN, {"username": "nurse", "password": WRONG}).status_code == 200
    assert client.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302
    client.logout()
    assert client.post(LOGIN, {"username": "nurse", "password": WRONG}).status_code == 200
    for _ in range(3):
        assert client.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    assert rate_limit_peek("login_account", "nurse").count == 3
    assert rate_limit_peek("login_address", "127.0.0.1").count == 3


# --- Simultaneous tries: each is counted before it is checked -----------------------------------------------------

WRONG = "not the password"


class _Checks:
    """Stands in for the password check (``base_user.check_password``, what a guess needs): records each password
    checked and holds a wrong one for ``hold`` seconds or until ``release``, so that every try of a burst is under way
    before any is answered, the moment in which a limit that looks before it counts lets every try through."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.passwords: list[str] = []
        self.release = threading.Event()
        self._check = base_user.check_password

    def __call__(self, password: str, encoded: str, setter=None) -> bool:
        self.passwords.append(password)
        if password != PASSWORD:
            self.release.wait(self.hold)
        return self._check(password, encoded, setter)


def _busy_wait(execute, sql, params, many, context):
    """Retries a statement the database refused as locked, for up to 10 seconds: SQLite's in-memory test database
    (shared between the threads' connections) answers "locked" at once, where a database file waits for the other
    writer (the deployment's busy timeout, settings ``timeout``). PostgreSQL waits by itself and never answers so."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return execute(sql, params, many, context)
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.002)


class _Burst:
    """``count`` threads sending one request each at the same instant (``send(client, i)`` returns the status), each
    with its own client and database connection."""

    def __init__(self, count: int, send) -> None:
        self.count = count
        self.statuses: list[int] = []
        self.errors: list[BaseException] = []
        barrier = threading.Barrier(count)

        def run(i: int) -> None:
            try:
                barrier.wait()
                with connection.execute_wrapper(_busy_wait):
                    self.statuses.append(send(Client(), i))
            except BaseException as error:
                self.errors.append(error)
            finally:
                connections.close_all()

        self.threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def settled(self, held: list[str], timeout: float = 20.0) -> None:
        """Wait until every request is either answered or held in its password check."""
        deadline = time.monotonic() + timeout
        while len(self.statuses) + len(self.errors) + len(held) < self.count and time.monotonic() < deadline:
            time.sleep(0.01)

    def join(self) -> list[int]:
        for thread in self.threads:
            thread.join()
        assert self.errors == []
        return sorted(self.statuses)


def _wrong_sign_in(client: Client, _i: int) -> int:
    return client.post(LOGIN, {"username": "nurse", "password": WRONG}).status_code


@pytest.fixture
def one_limit(settings, held_clock):
    """One limit within reach for a burst: 3 failed sign-ins per name, 2 refused tokens per address; the others
    (and the lockout) out of reach. With two limits in reach a try refused by one holds its place in the other until
    it is given back, so a burst may have fewer tries checked than the limit (never more): this one counts exactly."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "3/3600", "api_bad_token": "2/600"}
    settings.LOGIN_FAILURE_LIMIT = 100


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_sign_ins_checks_no_more_passwords_than_the_accounts_limit(world, one_limit, monkeypatch):
    """Ten wrong passwords for one account at the same instant: each try is counted before its password is checked
    and the count it gets back decides, so only the 3 the name's limit allows are checked; the other 7 get 429 and
    are not counted, so both counters end at 3 (looking first and counting after a failure checked all ten)."""
    checks = _Checks(hold=0.3)
    monkeypatch.setattr(base_user, "check_password", checks)
    assert _Burst(10, _wrong_sign_in).join() == [200] * 3 + [429] * 7
    assert len(checks.passwords) == 3
    assert rate_limit_peek("login_account", "nurse").count == 3
    assert rate_limit_peek("login_address", "127.0.0.1").count == 3


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_sign_ins_checks_no_more_passwords_than_the_lockout_allows(world, settings, monkeypatch):
    """Ten wrong passwords for one account at the same instant, with a lockout after 3 failures and no rate limit
    in reach: the account's failures are counted (one UPDATE each) before the password is checked, so 3 are
    checked, the rest refused unchecked, and the account is locked (every try read the account unlocked and
    checked its password)."""
    settings.LOGIN_FAILURE_LIMIT = 3
    checks = _Checks(hold=0.3)
    monkeypatch.setattr(base_user, "check_password", checks)
    assert _Burst(10, _wrong_sign_in).join() == [200] * 10
    assert len(checks.passwords) == 3
    assert User.objects.get(username="nurse").is_locked()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("limit", ["rate limit", "lockout"])
def test_the_right_password_after_a_burst_that_used_up_the_limit_is_refused(
    world, settings, monkeypatch, limit, request
):
    """Ten wrong passwords are under way for one account (the allowed ones held in their password check) when the
    right one comes: it is refused without being checked, whether the name's rate limit (3) or the lockout (3
    failures) was used up by the tries still in flight (a burst of wrong guesses ending with the right one signed
    in)."""
    if limit == "rate limit":
        request.getfixturevalue("one_limit")
    else:
        settings.LOGIN_FAILURE_LIMIT = 3
    checks = _Checks(hold=20.0)
    monkeypatch.setattr(base_user, "check_password", checks)
    burst = _Burst(10, _wrong_sign_in)
    try:
        burst.settled(checks.passwords)
        client = Client()
        with connection.execute_wrapper(_busy_wait):
            response = client.post(LOGIN, {"username": "nurse", "password": PASSWORD})
    finally:
        checks.release.set()
        statuses = burst.join()
    assert response.status_code == (429 if limit == "rate limit" else 200)
    assert "_auth_user_id" not in client.session
    assert checks.passwords == [WRONG] * 3
    assert statuses == ([200] * 3 + [429] * 7 if limit == "rate limit" else [200] * 10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("made_up", ["onb_guess{}", "onb_{:x>43}"], ids=["malformed", "well-formed"])
def test_a_burst_of_bad_tokens_lets_no_more_reach_the_api_than_the_addresss_limit(
    world, one_limit, monkeypatch, made_up
):
    """Eight requests with made-up tokens from one address at the same instant: each (looked up by its digest and
    found nobody's, or not shaped as issued tokens are) is counted as a refused token before the API answers it, so
    only the 2 the address's limit allows reach the API (and are answered 401); the other 6 get 429 without reaching
    it, and the counter ends at 2 (counting after the 401 let all eight through)."""
    from onaboard.web.config.api import BearerToken

    reached: list[str] = []
    authenticate = BearerToken.authenticate

    def slow_authenticate(self, request, token: str):
        reached.append(token)
        time.sleep(0.3)
        return authenticate(self, request, token)

    monkeypatch.setattr(BearerToken, "authenticate", slow_authenticate)

    def guess(client: Client, i: int) -> int:
        return client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {made_up.format(i)}").status_code

    assert _Burst(8, guess).join() == [401] * 2 + [429] * 6
    assert len(set(reached)) == 2
    assert rate_limit_peek("api_bad_token", "127.0.0.1").count == 2


def test_a_good_token_is_not_counted_as_refused(client, world, limits):
    """A request with a good token is never counted as a refused token: good requests never use up their address's
    budget of refused tokens."""
    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    for _ in range(3):
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert rate_limit_peek("api_bad_token", "127.0.0.1").count == 0


# --- What a request with a token costs the token table ------------------------------------------------------------


def _statements(captured, model) -> list[str]:
    """The first word of each statement captured on ``model``'s table."""
    table = model._meta.db_table
    return [query["sql"].split()[0] for query in captured.captured_queries if table in query["sql"]]


@pytest.mark.parametrize(
    "token",
    ["onb_guess", "onb_" + "x" * 42, "onb_" + "x" * 44, "xyz_" + "x" * 43, "onb_" + "x" * 42 + "!", "x" * 47],
)
def test_a_token_issue_could_not_have_made_costs_no_token_lookup(client, world, limits, token):
    """A token ``ApiToken.issue`` could not have made (not ``onb_`` and 43 URL-safe characters) is refused without a
    query on the token table: answered 401 within its address's budget of refused tokens, and, once that is used up,
    429 after one read of the counter table and no write (it is neither counted nor given back)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        statuses = [client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {token}").status_code for _ in range(2)]
    assert statuses == [401, 401]
    assert _statements(captured, ApiToken) == []
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 429
    assert _statements(captured, ApiToken) == []
    assert _statements(captured, RateLimitCounter) == ["SELECT"]
    assert rate_limit_peek("api_bad_token", "127.0.0.1").count == 2


def test_a_token_costs_one_lookup_per_request_even_from_an_address_over_its_limit(client, world, limits):
    """A token shaped as ``ApiToken.issue`` makes them is looked up once per request, by the middleware, whose
    finding the API uses: a refused one (401, then 429 once its address's budget is used up) and a good one, which
    is looked up even from that address, so it still works."""
    from django.test.utils import CaptureQueriesContext

    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    gone, gone_raw = ApiToken.issue(world.users["nurse"], "old script")
    gone.delete()
    assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200  # last_used written
    for expected in (401, 401, 429):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {gone_raw}").status_code == expected
        assert _statements(captured, ApiToken) == ["SELECT"]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert _statements(captured, ApiToken) == ["SELECT"]
    assert rate_limit_peek("api_bad_token", "127.0.0.1").count == 2


def test_every_issued_token_has_the_shape_the_middleware_looks_up(world):
    """The middleware refuses unlooked-up only tokens ``ApiToken.issue`` could not have made: each one it issues
    has the shape that is looked up."""
    from onaboard.web.accounts.middleware import token_well_formed

    for i in range(40):
        _token, raw = ApiToken.issue(world.users["nurse"], f"script {i}")
        assert token_well_formed(raw)


def test_the_api_uses_the_middlewares_lookup_only_for_the_token_it_looked_up(world, rf):
    """``BearerToken`` takes the middleware's finding (a user, or a refusal) for the very token it found, and looks
    up any other token itself: a request without the middleware's finding, or with one for another token, is
    answered as its own token says."""
    from onaboard.web.accounts.middleware import BEARER_LOOKUP_ATTRIBUTE, BearerLookup
    from onaboard.web.config.api import BearerToken

    clinician, nurse = world.users["clinician"], world.users["nurse"]
    _token, raw = ApiToken.issue(clinician, "script")
    _other, other_raw = ApiToken.issue(nurse, "other")
    found = {
        None: clinician,
        BearerLookup(other_raw, nurse): clinician,
        BearerLookup(raw, clinician): clinician,
        BearerLookup(raw, None): None,
    }
    for lookup, user in found.items():
        request = rf.get(API_PATIENTS)
        if lookup is not None:
            setattr(request, BEARER_LOOKUP_ATTRIBUTE, lookup)
        assert BearerToken().authenticate(request, raw) == user
