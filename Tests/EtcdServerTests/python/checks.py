"""What the etcd client scripts share: run each check, report every failure (not just the
first), print a summary and exit non-zero if any check failed."""
import sys


class Checks:
    def __init__(self):
        self.passed = []
        self.failed = []

    def run(self, fn):
        try:
            fn()
            self.passed.append(fn.__name__)
            print("ok  ", fn.__name__, flush=True)
        except Exception as error:  # report every failing check, not just the first
            self.failed.append(fn.__name__)
            print("FAIL", fn.__name__, repr(error), flush=True)

    def check(self, fn):
        """Decorator: runs the check at once."""
        self.run(fn)
        return fn

    def finish(self):
        print("%d passed, %d failed" % (len(self.passed), len(self.failed)))
        sys.exit(1 if self.failed else 0)
