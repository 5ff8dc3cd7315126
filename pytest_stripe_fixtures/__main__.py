"""``python -m pytest_stripe_fixtures serve | check``."""

import sys

from .cli import main

sys.exit(main())
