"""A recorder stand-in run as a subprocess by the store tests.

    python store_writer.py DB forever SLEEP_S   # commit a batch every SLEEP_S until killed
    python store_writer.py DB finite N SLEEP_S  # N batches, then finish the session

Each batch is one "second" of 200 Hz data (15 packets of 14 samples, firmware packer), then a
commit; after every commit the writer prints ``session_id committed_packets`` and flushes.
"""

import sys
import time

from store_testkit import STARTED_AT, packed_rows

from hipdrop.store import Store

BATCH = 15


def main(db, mode, *args):
    store = Store.open(db)
    sid = store.create_session(started_at=STARTED_AT, source="live", athlete="writer")
    batches = int(args[0]) if mode == "finite" else None
    sleep_s = float(args[-1])
    done = 0
    while batches is None or done < batches:
        first = done * BATCH * 14
        store.add_packets(sid, packed_rows(BATCH, first_seq=first, host_start=STARTED_AT))
        store.commit()
        done += 1
        # one write for the whole line: with PYTHONUNBUFFERED set, print(sid, n) writes its
        # pieces one by one, and a kill between them left the test half a line
        sys.stdout.write(f"{sid} {done * BATCH}\n")
        sys.stdout.flush()
        time.sleep(sleep_s)
    store.finish_session(sid, STARTED_AT + done, complete=True)
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
