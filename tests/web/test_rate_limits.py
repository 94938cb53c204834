"""Rate limits on sign-in and on the API (onaboard/web/accounts/ratelimit.py and its middleware)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import connection, connections
from django.urls import reverse

from onaboard.web.accounts import ratelimit
from onaboard.web.accounts.models import ApiToken, RateLimitCounter
from onaboard.web.accounts.ratelimit import Rate, rate_limit_hit, rate_limit_peek, too_many_requests_message
from tests.web.factories import PASSWORD

LOGIN = reverse("accounts:login")
API_PATIENTS = "/api/patients"


@pytest.fixture
def limits(settings, db):
    """Small limits so a test reaches them quickly (the counters live in the test's database)."""
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
    """After 2 refused tokens from one address even a good token from it gets 429; other addresses are fine."""
    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    for guess in ("onb_guess1", "onb_guess2"):
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {guess}").status_code == 401
    assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 429
    elsewhere = client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="10.8.8.8")
    assert elsewhere.status_code == 200


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
    ends, after 0003, with the counter table and without the old one."""
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("accounts", "0002_rate_limit_cache_table"), ("accounts", "0003_rate_limit_counters")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE onaboard_rate_limits (cache_key varchar(255) PRIMARY KEY, value text)")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    tables = connection.introspection.table_names()
    assert RateLimitCounter._meta.db_table in tables
    assert "onaboard_rate_limits" not in tables


def test_an_api_request_costs_the_limiter_two_statements(client, world, limits, monkeypatch):
    """Once its window's counter exists, an API request reads the refused-token counter and counts itself in one
    upsert: two statements on the counter table, neither of which counts or scans the table."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6000.0))  # both requests in one window
    _token, raw = ApiToken.issue(world.users["clinician"], "script")
    assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API_PATIENTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    table = RateLimitCounter._meta.db_table
    statements = [query["sql"] for query in captured.captured_queries if table in query["sql"]]
    assert len(statements) == 2
    assert statements[0].startswith("SELECT")
    assert "COUNT(" not in statements[0].upper()
    assert statements[1].startswith("INSERT")
    assert "ON CONFLICT" in statements[1]


def test_without_returning_the_count_is_read_back(limits):
    """Where the database cannot return columns from an insert (SQLite before 3.35), the upsert is followed by a
    read of the count, and the counter behaves the same."""
    with mock.patch.object(connection.features, "can_return_columns_from_insert", False):
        counts = [rate_limit_hit("login_account", "someone", now=7200.0).count for _ in range(4)]
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
