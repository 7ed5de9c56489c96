from datetime import timedelta

from app.services.throttle import MAX_DELAY, account_delay


def test_no_delay_below_the_limit() -> None:
    assert [account_delay(n, 5) for n in range(5)] == [None] * 5


def test_the_delay_doubles_from_two_seconds_up_to_fifteen_minutes() -> None:
    delays = [account_delay(n, 5) for n in range(5, 16)]
    assert delays[:4] == [timedelta(seconds=s) for s in (2, 4, 8, 16)]
    assert delays[-1] == MAX_DELAY == timedelta(minutes=15)


def test_at_most_about_twenty_guesses_an_hour() -> None:
    """ASVS 2.2.1 allows at most 100 failed attempts an hour per account: count how many
    failures fit into an hour when each waits out the delay the previous one caused."""
    elapsed, failures = timedelta(0), 0
    while elapsed < timedelta(hours=1):
        failures += 1
        elapsed += account_delay(failures, 5) or timedelta(0)
    assert failures <= 25
