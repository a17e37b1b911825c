"""moto's server, with each DynamoDB request applied whole before the next.

DynamoDB applies every item write atomically (conditions, ADD counters,
transactions); moto's threaded server can interleave two such requests, so a
concurrency test could fail for the emulator's sake. Other services (SQS long
polls among them) stay concurrent.

moto makes a transaction undoable by deep-copying the whole table once per item
it writes: on a table of thousands of items, every transaction costs seconds and
the copies leave the server holding gigabytes. Here a transaction instead keeps
copies of the items it touches and puts them back when it is cancelled, which is
the same all-or-nothing outcome (requests are applied one at a time, see above).

The tests wait on this one Python process, so work moto does on every request
without need is left out: a query of a table (not of an index) sorts every item
of the table to keep one partition's, which made a query's cost grow with the
whole table; routing lists moto's package directory on every request; every KMS
key gets an RSA key pair (the tests make symmetric ones, which never use it);
and every request line is logged.

usage: python moto-server.py HOST PORT
"""
import copy
import functools
import inspect
import logging
import os
import signal
import sys
import threading
import types

from moto import backends
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.kms import models as kms_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def item_level_rollback() -> None:
    """Transactions undo their own items rather than whole-table copies."""
    # moto's transaction code copies tables with copy.deepcopy; tables pass through uncopied.
    dynamodb_models.copy = types.SimpleNamespace(
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo)
    )
    transact = dynamodb_models.DynamoDBBackend.transact_write_items

    def touched(backend, transact_items):
        saved = {}
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            if not isinstance(op, dict):
                continue
            table = backend.tables.get(op.get("TableName"))
            attributes = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in attributes:
                continue
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attributes:
                    continue
                range_key = DynamoType(attributes[table.range_key_attr])
            where = (table.name, hash_key, range_key)
            if where not in saved:
                saved[where] = (table, copy.deepcopy(table.get_item(hash_key, range_key)))
        return saved

    def restore(saved):
        for (_, hash_key, range_key), (table, item) in saved.items():
            if item is None:
                table.delete_item(hash_key, range_key)
            elif range_key is None:
                table.items[hash_key] = item
            else:
                table.items[hash_key][range_key] = item

    def transact_write_items(self, transact_items):
        saved = touched(self, transact_items)
        try:
            return transact(self, transact_items)
        except Exception:
            restore(saved)
            raise

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def partition_queries() -> None:
    """A query of the table itself reads the items of its one partition."""
    query, all_items = Table.query, Table.all_items
    parameters = inspect.signature(query)
    reading = threading.local()

    def items_of_the_partition(table):
        hash_key = getattr(reading, "hash_key", None)
        if hash_key is None:
            return all_items(table)
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        # query sorts them by range key itself.
        return list(partition.values()) if table.range_key_attr else [partition]

    def partition_query(table, *arguments, **options):
        asked = parameters.bind(table, *arguments, **options).arguments
        if asked.get("index_name") or asked["hash_key"] is None:
            return query(table, *arguments, **options)
        reading.hash_key = asked["hash_key"]
        try:
            return query(table, *arguments, **options)
        finally:
            reading.hash_key = None

    Table.all_items = items_of_the_partition
    Table.query = partition_query


def less_work_per_request() -> None:
    """Requests are routed, keys made and requests logged without needless work."""
    # Routing asks for the list of services on every request; the package does not change.
    services = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: services

    # A key's private half is made when a request first uses it (signing, a public key).
    generate = kms_models.generate_private_key

    class PrivateKeyOnFirstUse:
        def __init__(self, key_spec):
            self.key_spec = key_spec

        @functools.cached_property
        def key(self):
            return generate(self.key_spec)

        def __getattr__(self, name):
            return getattr(self.key, name)

    kms_models.generate_private_key = PrivateKeyOnFirstUse
    # Errors still reach the log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    # The emulator's state is disposable: exit at once rather than free gigabytes of it.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    item_level_rollback()
    partition_queries()
    less_work_per_request()
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
