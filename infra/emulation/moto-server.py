"""moto's server, with each DynamoDB request applied whole before the next.

DynamoDB applies every item write atomically (conditions, ADD counters,
transactions); moto's threaded server can interleave two such requests, so a
concurrency test could fail for the emulator's sake. Other services (SQS long
polls among them) stay concurrent.

usage: python moto-server.py HOST PORT
"""
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    # The emulator's state is disposable: exit at once rather than free gigabytes of it.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    moto = DomainDispatcherApplication(create_backend_app)
    dynamodb = threading.Lock()

    def app(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with dynamodb:
                return list(moto(environ, start_response))
        return moto(environ, start_response)

    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
