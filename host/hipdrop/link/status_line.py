"""The live status line of ``hipdrop record`` and the summary at its end."""

from __future__ import annotations

from .recorder import LinkState


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def status_line(state: LinkState) -> str:
    """``elapsed | link | rate | lost/recovered | battery | RSSI`` on one line."""
    link = "streaming" if state.connected else "reconnecting"
    battery = f"{state.battery_pct} %" if state.battery_pct is not None else "?"
    rssi = f"{state.rssi} dBm" if state.rssi is not None else "n/a"
    return (
        f"{_clock(state.elapsed_s)} | {link:12s} | {state.rate_hz:6.1f} Hz | "
        f"samples {state.samples:,} | lost {state.lost:,} | recovered {state.recovered:,} | "
        f"rejected packets {state.rejected:,} | battery {battery} | RSSI {rssi} | "
        f"reconnects {state.reconnects}"
    )


def summary(session_id: int, stats: dict, gaps: list[tuple[int, int, int]], rate_hz: float) -> str:
    """What was recorded and, honestly, what could not be recovered."""
    if not stats["stored"]:
        return f"nothing was recorded: session {session_id} dropped"
    lines = [
        f"session {session_id}: {stats['samples']:,} samples over {len(stats['boots'])} boot(s), "
        f"{stats['recovered']:,} recovered by backfill, {stats['reconnects']} reconnect(s); "
        f"{stats['rejected']:,} damaged and {stats['duplicates']:,} duplicate packet(s) dropped"
    ]
    restarts = len(stats["boots"]) - 1
    if restarts > 0:
        lines.append(f"the sensor restarted {restarts} time(s): the second or two of each "
                     "restart was never sampled")  # fmt: skip
    if not gaps:
        lines.append("nothing lost on the link")
    for boot, start, end in gaps:
        seconds = f" ≈ {(end - start) / rate_hz:.1f} s" if rate_hz else ""
        lines.append(
            f"  lost: boot {boot}, samples [{start:,}, {end:,}) = {end - start:,}{seconds} — "
            "the sensor no longer held them; `hipdrop sync` may fill them from its flash log"
        )
    return "\n".join(lines)
