"""What the client scripts share: one line per check, and a call's HTTP status."""
import json
import sys
import time

from kubernetes.client.rest import ApiException


def check(condition, message):
    """Prints the check; exits non-zero at the first failure."""
    if not condition:
        print("FAIL:", message)
        sys.exit(1)
    print("ok:", message)


def eventually(condition, timeout, interval=0.2):
    """Whether `condition()` became true within `timeout` seconds, polled every `interval`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def status_of(call):
    """The status code of a client call and the Status it answered with (200, None on success)."""
    try:
        call()
    except ApiException as error:
        return error.status, json.loads(error.body)
    return 200, None
