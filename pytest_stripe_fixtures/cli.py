"""``stripe-fixtures`` (also ``python -m pytest_stripe_fixtures``): serve | check."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stripe-fixtures",
                                     description="pytest-stripe-fixtures command line")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the fake Stripe over HTTP")
    check = sub.add_parser("check", help="validate cassettes against schemas/ and scan for secrets")
    from .cassettes import check as check_module
    from .transports import server

    server.add_arguments(serve)
    check_module.add_arguments(check)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return server.run(args)
    return check_module.run(args)


if __name__ == "__main__":
    sys.exit(main())
