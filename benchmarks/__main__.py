"""`python -m benchmarks`: see benchmarks/__init__.py."""
from .harness import main

main()
