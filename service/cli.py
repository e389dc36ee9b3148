"""`klarjournal serve`: the HTTP service under uvicorn."""

import argparse
import copy
import os
import sys
from typing import TYPE_CHECKING

from klarjournal.service.settings import Settings, check_bind, load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

APP_FACTORY = "klarjournal.service.cli:served_app"


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="run the HTTP service (settings from KLARJOURNAL_* environment variables)",
        description="Run the HTTP service. Settings come from the environment: "
                    "KLARJOURNAL_API_KEYS='portal:KEY,clinician:KEY2', "
                    "KLARJOURNAL_LEXICON_OVERLAYS='a.jsonl,b.jsonl', KLARJOURNAL_MODEL_PATH=DIR, "
                    "KLARJOURNAL_USE_MODEL=false, KLARJOURNAL_MAX_BATCH, "
                    "KLARJOURNAL_MAX_NOTE_CHARS, KLARJOURNAL_CORS_ORIGINS.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; others need API keys)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes, each with its own pipeline (default 1)")
    serve.add_argument("--log-level", default="info",
                       choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--no-access-log", action="store_true",
                       help="do not log one line per request (method, path, status)")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        check_bind(args.host, settings)
    except ValueError as exc:
        print(f"klarjournal serve: {exc}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("klarjournal serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if needs_fresh_process(settings):
        _exec_service_main(args)  # does not return

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    _print_banner(args.host, args.port, settings)
    log_config = copy.deepcopy(LOGGING_CONFIG)
    # The service's own warnings (no keys, degraded model) go where uvicorn's go.
    log_config["loggers"]["klarjournal"] = {"handlers": ["default"], "level": "INFO",
                                            "propagate": False}
    common = {"host": args.host, "port": args.port, "log_level": args.log_level,
              "log_config": log_config, "access_log": not args.no_access_log}
    if args.workers > 1:
        # Each worker process builds its own app (and pipeline) from the environment.
        uvicorn.run(APP_FACTORY, factory=True, workers=args.workers, **common)
    else:
        uvicorn.run(served_app(settings), **common)
    return 0


def served_app(settings: Settings | None = None) -> "FastAPI":
    """The app as `serve` runs it, in each worker: process set-up first, then ``create_app``."""
    from klarjournal.service.app import create_app, load_pipeline
    from klarjournal.service.runtime import frozen_after, prepare_process

    settings = settings if settings is not None else load_settings()
    prepare_process(settings)
    return create_app(settings, load=frozen_after(load_pipeline))


def needs_fresh_process(settings: Settings) -> bool:
    """Whether `serve` should start over in a clean interpreter before serving.

    ``klarjournal`` reaches this command through the pipeline's CLI, which has imported spaCy
    and with it torch (~180 MB per process, needed only by the context model), and glibc reads
    its MALLOC_* settings (``runtime.MALLOC_ENV``) only when a process starts.
    ``python -m klarjournal.service.cli`` starts without either; it never restarts itself.
    """
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if main_spec is not None and main_spec.name == __spec__.name:
        return False
    from klarjournal.service.runtime import malloc_env

    return not malloc_env().keys() <= os.environ.keys() or (
        not settings.use_model and "torch" in sys.modules)


def _exec_service_main(args: argparse.Namespace) -> None:
    from klarjournal.service.runtime import malloc_env

    for name, value in malloc_env().items():
        os.environ.setdefault(name, value)
    argv = [sys.executable, "-m", __spec__.name, "serve", "--host", args.host,
            "--port", str(args.port), "--workers", str(args.workers),
            "--log-level", args.log_level, *(["--no-access-log"] if args.no_access_log else [])]
    sys.stdout.flush()
    sys.stderr.flush()
    # Same process id: supervisors and signals see no difference.
    os.execv(sys.executable, argv)


def _print_banner(host: str, port: int, settings: Settings) -> None:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    print(f"klarjournal service starting on {base} (loading the pipeline takes a few seconds)")
    print(f"  Preview page : {base}/preview")
    print(f"  API schema   : {base}/openapi.json   readiness: {base}/readyz")
    if settings.auth_enabled:
        roles = sorted({key.role for key in settings.api_keys})
        print(f"  Auth         : send 'Authorization: Bearer KEY' on /v1 calls "
              f"(keys configured for: {', '.join(roles)}); in the preview page, paste a "
              "clinician key into 'API-nøgle'.")
    else:
        print("  Auth         : NONE - no KLARJOURNAL_API_KEYS set, so anyone on this machine "
              "can call /v1; listening on loopback only.")
        print("                 To require keys: KLARJOURNAL_API_KEYS='portal:KEY1,clinician:KEY2'"
              " and send 'Authorization: Bearer KEY'.")
    print(f"  Try          : curl -s {base}/v1/translate -H 'Content-Type: application/json' "
          "-d '{\"text\": \"Pt. har dyspnø.\"}'", flush=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m klarjournal.service.cli serve ...`: the service without the pipeline's CLI."""
    parser = argparse.ArgumentParser(prog="klarjournal")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
