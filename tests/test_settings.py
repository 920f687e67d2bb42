"""Settings: environment, overrides, one-line errors, and the secret stays secret."""

from __future__ import annotations

import pytest

from runner.settings import MIDTRANS_BASE_URLS, SettingsError, load, parse_duration

KEY = "SB-Mid-server-very-secret"


def test_defaults_point_at_the_sandbox() -> None:
    settings = load({})
    assert settings.midtrans_api_base_url == MIDTRANS_BASE_URLS["sandbox"]
    assert settings.max_body_bytes == 64 * 1024


def test_production_base_url_and_explicit_override() -> None:
    assert load({"MIDTRANS_ENV": "production"}).midtrans_api_base_url == "https://api.midtrans.com"
    settings = load({"MIDTRANS_ENV": "production", "MIDTRANS_API_BASE_URL": "http://127.0.0.1:8900/"})
    assert settings.midtrans_api_base_url == "http://127.0.0.1:8900"


@pytest.mark.parametrize(("env", "message"), [
    ({"MIDTRANS_ENV": "staging"}, "MIDTRANS_ENV must be sandbox or production"),
    ({"PAYMENTS_DATABASE_URL": "mysql://x/y"}, "PAYMENTS_DATABASE_URL must be a postgresql:// URL"),
    ({"PAYMENTS_PORT": "99999"}, "PAYMENTS_PORT must be between 1 and 65535"),
    ({"PAYMENTS_PORT": "http"}, "PAYMENTS_PORT must be an integer"),
    ({"PAYMENTS_SYNC_INTERVAL": "soon"}, "PAYMENTS_SYNC_INTERVAL must be a duration"),
    ({"PAYMENTS_EXPIRE_AT_MIDTRANS": "maybe"}, "PAYMENTS_EXPIRE_AT_MIDTRANS must be true or false"),
    ({"MIDTRANS_API_BASE_URL": "ftp://x"}, "MIDTRANS_API_BASE_URL must be an http(s) URL"),
])
def test_malformed_settings_fail_with_one_clear_line(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as err:
        load(env)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_durations() -> None:
    assert parse_duration("90", "x") == 90
    assert parse_duration("5m", "x") == 300
    assert parse_duration("1h", "x") == 3600
    assert parse_duration("250ms", "x") == 0.25


def test_cli_overrides_beat_the_environment() -> None:
    settings = load({"PAYMENTS_PORT": "8080"}, port=9090, host=None)
    assert settings.port == 9090
    assert settings.host == "127.0.0.1"


def test_server_key_never_shows_in_repr() -> None:
    settings = load({"MIDTRANS_SERVER_KEY": KEY,
                     "PAYMENTS_DATABASE_URL": "postgresql://app:db-password@localhost/shop"})
    assert settings.require_server_key() == KEY
    shown = repr(settings) + str(settings.server_key) + f"{settings.server_key}"
    assert KEY not in shown
    assert "db-password" not in shown


def test_missing_server_key_is_reported() -> None:
    with pytest.raises(SettingsError, match="MIDTRANS_SERVER_KEY is not set"):
        load({}).require_server_key()
