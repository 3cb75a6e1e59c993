"""What the client scripts share: one line per check, and a call's HTTP status."""
import json
import sys

from kubernetes.client.rest import ApiException


def check(condition, message):
    """Prints the check; exits non-zero at the first failure."""
    if not condition:
        print("FAIL:", message)
        sys.exit(1)
    print("ok:", message)


def status_of(call):
    """The status code of a client call and the Status it answered with (200, None on success)."""
    try:
        call()
    except ApiException as error:
        return error.status, json.loads(error.body)
    return 200, None
