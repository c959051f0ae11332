"""The host end of the BLE link: find, connect, record, backfill, sync (docs/link.md)."""
