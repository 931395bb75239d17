"""Command line: ``vislab serve`` runs the service emulator over HTTP."""

from __future__ import annotations

import argparse
import logging
import os
import sys

__all__ = ["main"]

KEY_ENV, SECRET_ENV = "VISLAB_SERVE_API_KEY", "VISLAB_SERVE_SECRET_KEY"
#: The PAI EAS service token `vislab serve` requires (environment only: never a flag, never logged).
EAS_TOKEN_ENV = "VISLAB_SERVE_EAS_TOKEN"

SERVE_EPILOG = f"""\
keys:
  Give the key pair in the environment, not as flags: any user of the machine can read
  command-line flags in the process list (ps), but not another user's environment.

    {KEY_ENV}=K {SECRET_ENV}=S vislab serve

  --api-key/--secret-key still work (they win over the environment) and print a warning.
  PAI EAS calls (/api/predict/<service>) need the token in {EAS_TOKEN_ENV} when it is set
  (as is, or in its HMAC form "EAS <signature>"); it is read from the environment only.

limits:
  Bodies over 12 MiB get HTTP 413 (216202); chunked bodies 411; methods other than GET and
  POST 405 (error 3); a connection silent for --idle-timeout seconds, or whose request has not
  arrived in full within --request-timeout seconds, is closed.
"""


def _serve(args) -> int:
    from vislab.emulator.server import make_server

    if args.api_key or args.secret_key:
        # Flags show in `ps` to every user of the machine; the environment does not.
        print(
            f"vislab serve: warning: --api-key/--secret-key are visible to other users in the "
            f"process list (ps); set {KEY_ENV} and {SECRET_ENV} in the environment instead",
            file=sys.stderr,
            flush=True,
        )
    api_key = args.api_key or os.environ.get(KEY_ENV)
    secret_key = args.secret_key or os.environ.get(SECRET_ENV)
    if bool(api_key) != bool(secret_key):
        print(
            f"vislab serve: give both keys ({KEY_ENV} and {SECRET_ENV}, or --api-key and "
            "--secret-key), or neither",
            file=sys.stderr,
        )
        return 2
    if args.gallery_backend == "milvus" or args.milvus_uri:
        # The image-search galleries of this process (vislab.engine.gallery.Gallery) read these.
        os.environ["VISLAB_GALLERY_BACKEND"] = "milvus"
        if args.milvus_uri:
            os.environ["VISLAB_MILVUS_URI"] = args.milvus_uri
        if args.milvus_uri and "://" in args.milvus_uri:
            # A server that does not answer fails the start, not the first add.
            from vislab.engine.gallery.milvus import MilvusIndex
            from vislab.errors import TransportError

            try:
                MilvusIndex(args.milvus_uri, "vislab_serve_check",
                            token=os.environ.get("VISLAB_MILVUS_TOKEN")).close()  # fmt: skip
            except TransportError as exc:
                print(f"vislab serve: {exc}", file=sys.stderr)
                return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    # A queue of requests waiting for a thread is normal under a burst, not worth a warning.
    logging.getLogger("waitress.queue").setLevel(logging.INFO if args.verbose else logging.ERROR)
    if args.warm:
        # Load the model before the first request so its latency is not the model's load.
        from vislab.engine.backbone import get_backbone

        get_backbone()
    server = make_server(
        args.host,
        args.port,
        api_key=api_key,
        secret_key=secret_key,
        home=args.home,
        brain_scope=not args.bce,
        threads=args.threads,
        idle_timeout=args.idle_timeout,
        request_timeout=args.request_timeout,
        eas_token=os.environ.get(EAS_TOKEN_ENV) or None,
    )
    host, port = server.server_address
    auth = "token or BCE signature required" if api_key else "no authentication"
    if api_key and args.bce:
        auth += "; tokens lack brain_all_scope, so the official SDKs sign with BCE"
    if os.environ.get(EAS_TOKEN_ENV):
        auth += "; PAI EAS token required"
    # Announce inside the try: a Ctrl-C right after the announcement must still stop cleanly.
    try:
        print(f"vislab serve listening on http://{host}:{port} ({auth}); Ctrl-C stops", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("vislab serve stopped", flush=True)
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def main(argv=None) -> int:
    """Entry point of the ``vislab`` console script.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    vislab 0.1.0
    """
    from vislab import __version__
    from vislab.emulator.server import IDLE_TIMEOUT, REQUEST_TIMEOUT, THREADS

    parser = argparse.ArgumentParser(prog="vislab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vislab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the service emulator over HTTP",
        description="Run the service emulator over HTTP (Baidu, EasyDL, PAI, generic API).",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="bind address (default 127.0.0.1; 0.0.0.0 exposes it)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port (0 = any free port)")
    serve.add_argument("--api-key", help=f"require this API key; prefer {KEY_ENV} (see keys)")
    serve.add_argument(
        "--secret-key", help=f"require this secret key; prefer {SECRET_ENV} (see keys)"
    )
    serve.add_argument("--home", help="state folder (default VISLAB_HOME or ~/.vislab)")
    serve.add_argument(
        "--bce",
        action="store_true",
        help="token replies lack brain_all_scope, so the official SDKs sign every call with "
        "BCE (bce-auth-v1) instead of sending the token; signatures are checked either way",
    )
    serve.add_argument(
        "--threads",
        type=_positive_int,
        default=THREADS,
        help=f"worker threads answering requests (default {THREADS})",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_positive,
        default=IDLE_TIMEOUT,
        metavar="S",
        help=f"close a connection silent for S seconds (default {IDLE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--request-timeout",
        type=_positive,
        default=REQUEST_TIMEOUT,
        metavar="S",
        help="close a connection whose request has not fully arrived within S "
        f"seconds (default {REQUEST_TIMEOUT:g})",
    )
    serve.add_argument(
        "--gallery-backend",
        choices=("numpy", "milvus"),
        default="numpy",
        help="vector index of the image-search galleries: numpy in memory (default) or Milvus",
    )
    serve.add_argument(
        "--milvus-uri",
        metavar="URI",
        help="Milvus Lite file or server (http://host:19530; token in VISLAB_MILVUS_TOKEN); "
        "default <home>/galleries/milvus.db",
    )
    serve.add_argument(
        "--no-warm", dest="warm", action="store_false", help="do not load the model before serving"
    )
    serve.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log requests (method, path, status; never query strings)",
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
