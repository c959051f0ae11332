"""Deploy: put the firmware on a board running MicroPython (``hipdrop device flash``).

``layout`` names what lives where on the board, ``sources`` gathers the files to copy,
``plan`` decides what to copy, keep and remove, ``board_fs`` (mpremote, with
``board_probe`` run on the board) and ``esptool_step`` are the two tool boundaries
(subprocesses), ``flash`` runs it all, ``ports`` lists serial ports.
Needs the ``device`` extra (``pip install 'hipdrop[device]'``): ``extra`` says so when missing.
"""
