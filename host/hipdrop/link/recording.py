"""One ``hipdrop record`` run: radio, recorder, Ctrl-C, the summary at the end."""

from __future__ import annotations

import sys

from .radio import open_radio, stop_on_interrupt
from .recorder import Recorder, RecordOptions
from .status_line import summary


def options_from(args) -> RecordOptions:
    """A simulated session is stored as a ``demo`` one, tagged ``sim:SCENARIO:SEED``."""
    tags = tuple(args.tag) + ((f"sim:{args.sim}:{args.seed}",) if args.sim else ())
    return RecordOptions(
        wanted=args.device, minutes=args.minutes, athlete=args.athlete, notes=args.notes,
        tags=tags, source="demo" if args.sim else "live", resume=getattr(args, "resume", None),
    )  # fmt: skip


async def record(store, args, printer, on_samples=None) -> Recorder:
    """Record one session as ``args`` say; the recorder, for its session id and numbers."""
    async with open_radio(args.sim, args.seed, args.faults, realtime=args.realtime) as radio:
        stop_on_interrupt(radio.finished)
        recorder = Recorder(
            store, radio.backends, radio.clock, options_from(args), stop=radio.finished,
            on_state=printer.state, on_event=printer.event, on_samples=on_samples,
        )  # fmt: skip
        try:
            await recorder.run()
        finally:
            if recorder.session_id is not None:
                rate = recorder.ingest.tally.nominal_rate_hz if recorder.ingest else 0.0
                print("\n" + summary(recorder.session_id, recorder.stats(),
                                     recorder.unrecoverable, rate), file=sys.stderr)  # fmt: skip
    return recorder
