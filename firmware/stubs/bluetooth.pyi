# Local override of micropython-esp32-stubs' bluetooth.pyi, which declares handles as
# memoryview and gatts_notify/gatts_indicate without their optional data argument.
# Signatures follow https://docs.micropython.org/en/v1.27.0/library/bluetooth.html.
# firmware/mypy.ini puts this folder before .tools/stubs on mypy_path, so it wins.
from collections.abc import Callable
from typing import Any, Final, overload

from _mpy_shed import AnyReadableBuf, AnyWritableBuf

FLAG_READ: Final[int]
FLAG_WRITE_NO_RESPONSE: Final[int]
FLAG_WRITE: Final[int]
FLAG_NOTIFY: Final[int]
FLAG_INDICATE: Final[int]

_Flag = int
_Descriptor = tuple[UUID, _Flag]
_Characteristic = tuple[UUID, _Flag] | tuple[UUID, _Flag, tuple[_Descriptor, ...]]
_Service = tuple[UUID, tuple[_Characteristic, ...]]

class UUID:
    def __init__(self, value: int | str | AnyReadableBuf, /) -> None: ...

class BLE:
    def __init__(self) -> None: ...
    @overload
    def active(self) -> bool: ...
    @overload
    def active(self, active: bool, /) -> bool: ...
    @overload
    def config(self, param: str, /) -> Any: ...
    @overload
    def config(self, **kwargs: Any) -> None: ...
    def irq(self, handler: Callable[[int, tuple[Any, ...]], Any], /) -> None: ...
    def gap_advertise(
        self,
        interval_us: int | None,
        adv_data: AnyReadableBuf | None = None,
        *,
        resp_data: AnyReadableBuf | None = None,
        connectable: bool = True,
    ) -> None: ...
    def gap_disconnect(self, conn_handle: int, /) -> bool: ...
    def gap_pair(self, conn_handle: int, /) -> None: ...
    def gap_passkey(self, conn_handle: int, action: int, passkey: int, /) -> None: ...
    def gatts_register_services(
        self, services_definition: tuple[_Service, ...], /
    ) -> tuple[tuple[int, ...], ...]: ...
    def gatts_read(self, value_handle: int, /) -> bytes: ...
    def gatts_write(
        self, value_handle: int, data: AnyReadableBuf, send_update: bool = False, /
    ) -> None: ...
    def gatts_notify(
        self, conn_handle: int, value_handle: int, data: AnyReadableBuf | None = None, /
    ) -> None: ...
    def gatts_indicate(
        self, conn_handle: int, value_handle: int, data: AnyReadableBuf | None = None, /
    ) -> None: ...
    def gatts_set_buffer(self, value_handle: int, len: int, append: bool = False, /) -> None: ...
    def gattc_exchange_mtu(self, conn_handle: int, /) -> None: ...
    def gattc_read(self, conn_handle: int, value_handle: int, /) -> None: ...
    def gattc_write(
        self, conn_handle: int, value_handle: int, data: AnyReadableBuf, mode: int = 0, /
    ) -> None: ...

__all__ = [
    "BLE",
    "UUID",
    "FLAG_READ",
    "FLAG_WRITE",
    "FLAG_WRITE_NO_RESPONSE",
    "FLAG_NOTIFY",
    "FLAG_INDICATE",
    "AnyWritableBuf",
]
