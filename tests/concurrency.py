"""Real threads started at the same instant, for the tests that race writers on one row.

They need `@pytest.mark.django_db(transaction=True)` and a file or server database: each
thread opens its own connection, which an in-memory SQLite database would not share.
"""

import threading

from django.db import connection

THREADS = 20


def run_at_once(work, count=THREADS):
    """Start `count` threads on `work(i)` at the same instant; collect results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def runner(i):
        try:
            barrier.wait()
            outcome = work(i)
            with lock:
                results.append(outcome)
        except Exception as exc:  # noqa: BLE001 — every failure is collected and asserted on
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors
