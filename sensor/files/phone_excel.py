"""phyphox's Excel export (``.xls``, one sheet per data set), read with xlrd.

phyphox writes the legacy BIFF ``.xls`` (xlslib); xlrd is the small, maintained reader of
exactly that format. Sheets are matched by their column names as the CSV sets are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensor.errors import InputError
from sensor.samples import Samples

MAX_XLS_BYTES = 64 * 1024 * 1024  # xlrd holds the whole workbook; .xls sheets end at 65,536 rows


def read(path: Path) -> Samples:
    """Acceleration (with g) and gyroscope sheets of a phyphox ``.xls``, merged."""
    from sensor.files.validate import regularize
    from sensor.sources.phone_streams import Stream, merge_streams, phyphox_column

    if path.suffix.lower() != ".xls":
        raise InputError(path, "only phyphox's .xls Excel export can be read: export CSV instead")
    try:
        if path.stat().st_size > MAX_XLS_BYTES:
            raise InputError(path, f"Excel file larger than {MAX_XLS_BYTES >> 20} MB: export CSV instead")
        import xlrd

        book = xlrd.open_workbook(str(path), on_demand=True)
    except ImportError:
        raise InputError(path, "reading Excel needs the xlrd package: export CSV from phyphox instead") from None
    except InputError:
        raise
    except Exception as e:  # xlrd raises many types for damaged files
        raise InputError(path, f"not a readable .xls workbook ({type(e).__name__}): export CSV from phyphox instead") from None
    found: dict[str, Stream] = {}
    for sheet in book.sheets():
        if sheet.nrows < 2:
            continue
        base = sheet.name.lower()
        names = [str(v).strip().lower() for v in sheet.row_values(0)]
        kinds = [phyphox_column(n, base) for n in names]
        for kind in ("acc", "gyro"):
            cols = {k[1]: i for i, k in enumerate(kinds) if k and k[0] == kind}
            times = [i for i, k in enumerate(kinds) if k and k[0] == "time"]
            if set(cols) != {"x", "y", "z"} or not times or kind in found:
                continue
            where = f"{path}:{sheet.name}"
            try:
                block = np.array([sheet.col_values(c, 1) for c in (times[0], cols["x"], cols["y"], cols["z"])], np.float64).T
            except (TypeError, ValueError):
                raise InputError(where, "a cell is not a number") from None
            block = block[~np.isnan(block).any(axis=1)]
            if not np.isfinite(block).all():
                raise InputError(where, "infinite value")
            found[kind] = regularize(block[:, 0], block[:, 1:], where, lambda i: i + 2, csv_time=False)
    if "acc" not in found or "gyro" not in found:
        raise InputError(path, "this Excel export lacks acceleration with g or the gyroscope: record both and export CSV")
    return merge_streams(str(path), found["acc"], found["gyro"])
