"""The session store: SQLite (WAL) with sessions, sets, reps, holds, gaps and traces.

Samples stay in recording files (copied into ``<data dir>/recordings/`` on import); the
database holds what the pipeline found in them and points back to the file. Every write
is one transaction, so a failed import leaves the store exactly as it was. Only
parameterized SQL is used. Modules: ``schema`` (migrations), ``database`` (connections,
errors), ``writes`` (``Store``: adding and removing sessions), ``queries`` (reading).
Analysis is never called from here: ``sensor.importer`` analyses, then stores.
"""

from sensor.store.database import DB_FILE as DB_FILE
from sensor.store.database import ENV_DATA_DIR as ENV_DATA_DIR
from sensor.store.database import RECORDINGS_DIR as RECORDINGS_DIR
from sensor.store.database import data_dir as data_dir
from sensor.store.schema import MIGRATIONS as MIGRATIONS
from sensor.store.schema import SCHEMA_VERSION as SCHEMA_VERSION
from sensor.store.writes import SessionInfo as SessionInfo
from sensor.store.writes import Store as Store
