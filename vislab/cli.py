"""Command line: ``vislab serve`` runs the service emulator over HTTP."""

from __future__ import annotations

import argparse
import logging
import os
import sys

__all__ = ["main"]


def _serve(args) -> int:
    from vislab.emulator.server import make_server

    api_key = args.api_key or os.environ.get("VISLAB_SERVE_API_KEY")
    secret_key = args.secret_key or os.environ.get("VISLAB_SERVE_SECRET_KEY")
    if bool(api_key) != bool(secret_key):
        print("vislab serve: give both --api-key and --secret-key, or neither", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    if args.warm:
        # Load the model before the first request so its latency is not the model's load.
        from vislab.engine.backbone import get_backbone

        get_backbone()
    server = make_server(args.host, args.port, api_key=api_key, secret_key=secret_key,
                         home=args.home)
    host, port = server.server_address[:2]
    auth = "token required" if api_key else "no authentication"
    # Announce inside the try: a Ctrl-C right after the announcement must still stop cleanly.
    try:
        print(f"vislab serve listening on http://{host}:{port} ({auth}); Ctrl-C stops",
              flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("vislab serve stopped", flush=True)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``vislab`` console script.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    vislab 0.1.0
    """
    from vislab import __version__

    parser = argparse.ArgumentParser(prog="vislab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vislab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service emulator over HTTP")
    serve.add_argument("--host", default="127.0.0.1",
                       help="bind address (default 127.0.0.1; 0.0.0.0 exposes it)")
    serve.add_argument("--port", type=int, default=8765, help="port (0 = any free port)")
    serve.add_argument("--api-key", help="require this API key (or VISLAB_SERVE_API_KEY)")
    serve.add_argument("--secret-key", help="require this secret (or VISLAB_SERVE_SECRET_KEY)")
    serve.add_argument("--home", help="state folder (default VISLAB_HOME or ~/.vislab)")
    serve.add_argument("--no-warm", dest="warm", action="store_false",
                       help="do not load the model before serving")
    serve.add_argument("-v", "--verbose", action="store_true", help="log requests (paths only)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
