"""M5StickC Plus2 (ESP32-PICO-V3-02, MPU6886, BM8563 RTC, 200 mAh battery): the reference board.

Pins from M5Stack's Plus2 documentation and pin map; not checked on a board here.

Worn: upright (the IR/LED end up, USB-C down) on the waistband over the sacrum, screen facing
out (away from the body).

Axes (an assumption; check it with a board lying still, see hardware/README.md): the MPU6886
sits with +z out of the screen (the board lying screen up reads +1 g on z), +y along the long
edge toward the IR/LED end, +x across the board to the right when looking at the screen
(right-handed). Worn as above: forward (into the body) is -z, left is -x (the screen faces
backwards, so the viewer's right is the wearer's right), up is +y.
"""

NAME = "m5stickc-plus2"
IMU_PART = "mpu6886"

I2C_ID = 0
I2C_SDA = 21  # internal bus: MPU6886 (0x68) and BM8563 RTC (0x51)
I2C_SCL = 22
I2C_FREQ = 400_000
IMU_ADDR = 0x68
RTC_ADDR = 0x51  # BM8563 (PCF8563-compatible) on the same bus, kept running by the battery

# board x = -imu z, board y = -imu x, board z = +imu y
AXES = ((2, -1), (0, -1), (1, 1))

BUTTON_PINS = (37, 39)  # A (front, under the screen), B (side); active low. C (power) is G35.
LED_PIN = 19  # red LED, shared with the IR transmitter
LED_ACTIVE_HIGH = True
BUZZER_PIN = 2  # passive buzzer: drive with PWM
MOTOR_PIN = None
POWER_HOLD_PIN = 4  # drive high at boot or the board switches off when on battery
BATTERY_ADC_PIN = 38
BATTERY_DIVIDER = 2.0  # 1:2 resistor divider on the board
