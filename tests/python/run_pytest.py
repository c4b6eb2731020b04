"""Runs pytest on the test files given, for CTest: exit 77 (CTest's SKIP_RETURN_CODE) when pytest
is missing, so the test shows as skipped with this message instead of failing."""
import sys

try:
    import pytest
except ImportError:
    print(f"SKIP: pytest is not installed for {sys.executable}; install it (Debian: apt install python3-pytest)")
    sys.exit(77)

# -p no:cacheprovider: CTest runs from the repository root, which must not get a .pytest_cache.
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
