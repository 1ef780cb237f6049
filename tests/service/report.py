"""report.py — the service tests' one way to say how each case went."""

results = []


def case(name, ok, detail=""):
    """Records a case and prints 'ok   NAME' or 'FAIL NAME: detail'."""
    ok = bool(ok)
    results.append(ok)
    print("%s %s%s" % ("ok  " if ok else "FAIL", name,
                       "" if ok else ": " + str(detail).strip()))


def finish():
    """Prints 'N passed, N failed'; the exit status for the script."""
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1
