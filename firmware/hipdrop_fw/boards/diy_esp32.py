"""DIY build: an ESP32 DevKitC with an MPU6050 or MPU6500 breakout (GY-521 / GY-6500) on I2C.

Pins as commonly wired on an ESP32 DevKitC (the ESP32's default I2C pins); hardware/README.md
shows the wiring. The driver tells the MPU6050 and MPU6500 apart by WHO_AM_I, so ``IMU_PART``
names the part the build is documented with.

Worn: the breakout flat against the clip, component side facing out (away from the body), its
printed X arrow pointing up. Then the chip's +z points backwards, +x up, and +y (= z cross x)
to the wearer's left.
"""

NAME = "diy-esp32"
IMU_PART = "mpu6050"

I2C_ID = 0
I2C_SDA = 21
I2C_SCL = 22
I2C_FREQ = 400_000
IMU_ADDR = 0x68  # AD0 to GND (0x69 with AD0 high)
RTC_ADDR = None  # no RTC chip: the ESP32's machine.RTC, which a power cut resets

# board x = -imu z, board y = +imu y, board z = +imu x
AXES = ((2, -1), (1, 1), (0, 1))

BUTTON_PINS = (0,)  # the DevKitC's BOOT button, active low (pressing it at reset enters download)
LED_PIN = 2  # an external LED + 330 ohm resistor (the DevKitC has only a power LED)
LED_ACTIVE_HIGH = True
BUZZER_PIN = None
MOTOR_PIN = 25  # coin vibration motor through an N-MOSFET or NPN, with a flyback diode
POWER_HOLD_PIN = None
BATTERY_ADC_PIN = 35  # ADC1 (ADC2 is unusable while the radio is on), input-only pin
BATTERY_DIVIDER = 2.0  # 100 k / 100 k from the LiPo to GND
