//! Raspberry Pi hardware through rppal: the lock relay and the door contact on GPIO pins, and
//! an INA219 battery monitor on I2C.
//!
//! Everything compiles anywhere; off a Pi (or without access to `/dev/gpiomem` and
//! `/dev/i2c-*`) the constructors return [`HalError::Unavailable`] saying what is missing.
//! The decisions that do not need the hardware (which pin level means "locked", the INA219
//! register maths) are pure functions, tested on any machine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use rppal::gpio::{Gpio, InputPin, Level, OutputPin};
use rppal::i2c::I2c;

use crate::liion::percent_from_millivolts;
use crate::{Battery, BatteryReading, DoorSensor, HalError, Relay};

/// A logic level on a pin, in our own words so configuration does not depend on rppal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinLevel {
    High,
    Low,
}

impl PinLevel {
    fn to_rppal(self) -> Level {
        match self {
            PinLevel::High => Level::High,
            PinLevel::Low => Level::Low,
        }
    }

    fn from_rppal(level: Level) -> Self {
        match level {
            Level::High => PinLevel::High,
            Level::Low => PinLevel::Low,
        }
    }

    fn inverted(self) -> Self {
        match self {
            PinLevel::High => PinLevel::Low,
            PinLevel::Low => PinLevel::High,
        }
    }
}

/// The SoC's built-in resistor on an input pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    /// None: the contact circuit has its own resistor.
    Off,
    /// To 3.3 V: a reed switch to ground reads low when closed. The usual wiring.
    #[default]
    Up,
    /// To ground: a reed switch to 3.3 V reads high when closed.
    Down,
}

fn gpio_unavailable(device: &'static str, error: &rppal::gpio::Error) -> HalError {
    HalError::Unavailable {
        device,
        reason: format!(
            "cannot open the GPIO controller ({error}); this needs a Raspberry Pi and access \
             to /dev/gpiomem (run as a user in the `gpio` group)"
        ),
    }
}

fn pin_unavailable(device: &'static str, pin: u8, error: &rppal::gpio::Error) -> HalError {
    HalError::Unavailable {
        device,
        reason: format!("cannot claim GPIO {pin} (BCM numbering): {error}"),
    }
}

/// How the lock relay is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpioRelayConfig {
    /// BCM pin number driving the relay module's input.
    pub pin: u8,
    /// The pin level that energises the relay coil. Many cheap opto-isolated modules are
    /// active-low.
    pub active_level: PinLevel,
    /// Whether the energised relay engages the lock (a magnetic lock on the normally-open
    /// contact) or releases it (an electric strike).
    pub energised_locks: bool,
    /// The state to hold whenever the daemon is not deciding otherwise: at start, and when
    /// the relay is dropped. Usually locked.
    pub safe_locked: bool,
}

impl GpioRelayConfig {
    /// The pin level for a commanded lock state.
    pub fn pin_level(&self, locked: bool) -> PinLevel {
        let energise = locked == self.energised_locks;
        if energise {
            self.active_level
        } else {
            self.active_level.inverted()
        }
    }
}

/// The lock relay on a GPIO output pin.
///
/// The pin is driven to the safe state as it is claimed (the level is written before the pin
/// becomes an output, so it never glitches through the other state), and back to the safe
/// state on drop. rppal would otherwise return the pin to an input on drop, leaving the relay
/// input floating; this relay keeps it driven at the safe level after the process ends.
#[derive(Debug)]
pub struct GpioRelay {
    config: GpioRelayConfig,
    pin: Mutex<OutputPin>,
    locked: AtomicBool,
}

impl GpioRelay {
    pub fn new(config: GpioRelayConfig) -> Result<Self, HalError> {
        let gpio = Gpio::new().map_err(|e| gpio_unavailable("relay", &e))?;
        let pin = gpio
            .get(config.pin)
            .map_err(|e| pin_unavailable("relay", config.pin, &e))?;
        let mut pin = match config.pin_level(config.safe_locked) {
            PinLevel::High => pin.into_output_high(),
            PinLevel::Low => pin.into_output_low(),
        };
        pin.set_reset_on_drop(false);
        tracing::info!(
            pin = config.pin,
            locked = config.safe_locked,
            "Relay claimed in its safe state."
        );
        Ok(Self {
            config,
            pin: Mutex::new(pin),
            locked: AtomicBool::new(config.safe_locked),
        })
    }

    pub fn config(&self) -> &GpioRelayConfig {
        &self.config
    }
}

impl Relay for GpioRelay {
    fn set_locked(&self, locked: bool) -> Result<(), HalError> {
        let mut pin = self.pin.lock().unwrap_or_else(PoisonError::into_inner);
        pin.write(self.config.pin_level(locked).to_rppal());
        self.locked.store(locked, Ordering::SeqCst);
        Ok(())
    }

    fn is_locked(&self) -> bool {
        self.locked.load(Ordering::SeqCst)
    }
}

impl Drop for GpioRelay {
    fn drop(&mut self) {
        let level = self.config.pin_level(self.config.safe_locked);
        let pin = self.pin.get_mut().unwrap_or_else(PoisonError::into_inner);
        pin.write(level.to_rppal());
    }
}

/// How the door contact is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpioDoorConfig {
    /// BCM pin number the contact is read on.
    pub pin: u8,
    pub pull: Pull,
    /// The level the pin reads while the door is open. With a pull-up and a normally-closed
    /// reed switch to ground (closed while the magnet is near), that is `High`.
    pub open_level: PinLevel,
}

/// The door contact on a GPIO input pin. Read raw; the daemon debounces.
#[derive(Debug)]
pub struct GpioDoorSensor {
    config: GpioDoorConfig,
    pin: InputPin,
}

impl GpioDoorSensor {
    pub fn new(config: GpioDoorConfig) -> Result<Self, HalError> {
        let gpio = Gpio::new().map_err(|e| gpio_unavailable("door sensor", &e))?;
        let pin = gpio
            .get(config.pin)
            .map_err(|e| pin_unavailable("door sensor", config.pin, &e))?;
        let pin = match config.pull {
            Pull::Off => pin.into_input(),
            Pull::Up => pin.into_input_pullup(),
            Pull::Down => pin.into_input_pulldown(),
        };
        Ok(Self { config, pin })
    }

    pub fn config(&self) -> &GpioDoorConfig {
        &self.config
    }
}

impl DoorSensor for GpioDoorSensor {
    fn is_open(&self) -> Result<bool, HalError> {
        Ok(PinLevel::from_rppal(self.pin.read()) == self.config.open_level)
    }
}

/// INA219 register addresses.
const REG_CONFIG: u8 = 0x00;
const REG_SHUNT_VOLTAGE: u8 = 0x01;
const REG_BUS_VOLTAGE: u8 = 0x02;

/// Where the INA219 is and how it is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ina219Config {
    /// I2C bus number: `/dev/i2c-<bus>`.
    pub bus: u8,
    /// 7-bit address, 0x40–0x4F depending on the A0/A1 straps.
    pub address: u16,
    /// The shunt resistor, in milliohms (0.1 Ω on most modules and UPS HATs).
    pub shunt_milliohms: u32,
    /// Li-ion cells in series, for the state-of-charge curve.
    pub cells: u8,
    /// Whether current into the battery makes the shunt voltage positive (the shunt's IN+
    /// on the charger side). Flip it if readings show charging on battery power.
    pub charge_current_positive: bool,
    /// Current drawn out of the battery (mA) below which it counts as on external power: a
    /// full battery on its charger carries a few milliamps either way.
    pub idle_ma: u32,
}

impl Default for Ina219Config {
    /// The usual Pi UPS HAT: bus 1, address 0x40, 0.1 Ω shunt, one cell.
    fn default() -> Self {
        Self {
            bus: 1,
            address: 0x40,
            shunt_milliohms: 100,
            cells: 1,
            charge_current_positive: true,
            idle_ma: 30,
        }
    }
}

/// What the INA219's two measurement registers say, in physical units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ina219Sample {
    /// Bus voltage: the battery terminal voltage.
    pub millivolts: u32,
    /// Battery current, positive into the battery (charging), negative out of it.
    pub current_ma: i32,
}

/// Decodes the bus-voltage register (0x02) and the shunt-voltage register (0x01).
///
/// Bus voltage: bits 15–3 hold the voltage in 4 mV steps; bits 1 and 0 are the
/// conversion-ready and overflow flags, which concern the calibrated current/power
/// registers this driver does not use. Shunt voltage: a two's-complement value in 10 µV
/// steps whatever the gain setting, so current = shunt voltage / shunt resistance
/// (µV / mΩ = mA) needs no calibration register. Fails only for a zero shunt resistance.
pub fn ina219_sample(
    bus_register: u16,
    shunt_register: u16,
    config: &Ina219Config,
) -> Result<Ina219Sample, HalError> {
    if config.shunt_milliohms == 0 {
        return Err(HalError::Unavailable {
            device: "battery",
            reason: "INA219 shunt resistance is configured as 0 mΩ".to_owned(),
        });
    }
    let millivolts = u32::from(bus_register >> 3) * 4;
    // Reinterpreting the register's bits as two's complement is the intended conversion.
    let shunt_microvolts = i64::from(shunt_register as i16) * 10;
    let current = shunt_microvolts / i64::from(config.shunt_milliohms);
    let current = if config.charge_current_positive {
        current
    } else {
        -current
    };
    // |current| ≤ 327 680 mA, so it always fits.
    let current_ma =
        i32::try_from(current).unwrap_or(if current < 0 { i32::MIN } else { i32::MAX });
    Ok(Ina219Sample {
        millivolts,
        current_ma,
    })
}

/// The battery reading for a decoded sample: percentage from the Li-ion curve, and on
/// external power unless the battery is clearly supplying current.
pub fn ina219_reading(sample: Ina219Sample, config: &Ina219Config) -> BatteryReading {
    let idle = i64::from(config.idle_ma);
    BatteryReading {
        millivolts: Some(sample.millivolts),
        percent: Some(percent_from_millivolts(sample.millivolts, config.cells)),
        charging: i64::from(sample.current_ma) > -idle,
    }
}

/// A battery watched by an INA219 current/voltage monitor on I2C (the chip on most Pi UPS
/// HATs). The chip is used in its power-on configuration (continuous conversion of both
/// voltages), so nothing is written to it.
#[derive(Debug)]
pub struct Ina219Battery {
    config: Ina219Config,
    i2c: Mutex<I2c>,
}

impl Ina219Battery {
    /// Opens the bus and checks that something answers at the address.
    pub fn new(config: Ina219Config) -> Result<Self, HalError> {
        if config.shunt_milliohms == 0 {
            return Err(HalError::Unavailable {
                device: "battery",
                reason: "INA219 shunt resistance is configured as 0 mΩ".to_owned(),
            });
        }
        let unavailable = |what: String| HalError::Unavailable {
            device: "battery",
            reason: what,
        };
        let mut i2c = I2c::with_bus(config.bus).map_err(|e| {
            unavailable(format!(
                "cannot open /dev/i2c-{} ({e}); enable I2C (raspi-config) and run as a user in \
                 the `i2c` group",
                config.bus
            ))
        })?;
        i2c.set_slave_address(config.address).map_err(|e| {
            unavailable(format!(
                "invalid INA219 address {:#04x}: {e}",
                config.address
            ))
        })?;
        i2c.smbus_read_word_swapped(REG_CONFIG).map_err(|e| {
            unavailable(format!(
                "no INA219 answers at {:#04x} on /dev/i2c-{} ({e}); check `i2cdetect -y {}`",
                config.address, config.bus, config.bus
            ))
        })?;
        Ok(Self {
            config,
            i2c: Mutex::new(i2c),
        })
    }

    pub fn config(&self) -> &Ina219Config {
        &self.config
    }

    /// Both registers in one lock, so voltage and current come from the same moment.
    fn registers(&self) -> Result<(u16, u16), rppal::i2c::Error> {
        let i2c = self.i2c.lock().unwrap_or_else(PoisonError::into_inner);
        // The INA219 sends registers most significant byte first; SMBus words are
        // little-endian, hence the swapped reads.
        let bus = i2c.smbus_read_word_swapped(REG_BUS_VOLTAGE)?;
        let shunt = i2c.smbus_read_word_swapped(REG_SHUNT_VOLTAGE)?;
        Ok((bus, shunt))
    }
}

impl Battery for Ina219Battery {
    fn read(&self) -> Result<BatteryReading, HalError> {
        let (bus, shunt) = self.registers().map_err(|e| HalError::Io {
            device: "battery",
            reason: format!("INA219 read failed: {e}"),
        })?;
        let sample = ina219_sample(bus, shunt, &self.config)?;
        Ok(ina219_reading(sample, &self.config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn relay(active_level: PinLevel, energised_locks: bool) -> GpioRelayConfig {
        GpioRelayConfig {
            pin: 17,
            active_level,
            energised_locks,
            safe_locked: true,
        }
    }

    #[test]
    fn relay_levels_for_every_wiring() {
        use PinLevel::{High, Low};
        // (active level, energised locks) → (level when locked, level when unlocked)
        for (active, energised_locks, when_locked, when_unlocked) in [
            (High, true, High, Low),
            (High, false, Low, High),
            (Low, true, Low, High),
            (Low, false, High, Low),
        ] {
            let config = relay(active, energised_locks);
            assert_eq!(config.pin_level(true), when_locked, "{config:?}");
            assert_eq!(config.pin_level(false), when_unlocked, "{config:?}");
        }
    }

    #[test]
    fn gpio_off_a_pi_is_unavailable_with_a_hint() {
        // This machine is not a Raspberry Pi; on one, these would claim real pins.
        if std::path::Path::new("/dev/gpiomem").exists() {
            return;
        }
        let err = GpioRelay::new(relay(PinLevel::High, true)).unwrap_err();
        assert!(
            matches!(
                err,
                HalError::Unavailable {
                    device: "relay",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("needs a Raspberry Pi"), "{err}");

        let err = GpioDoorSensor::new(GpioDoorConfig {
            pin: 27,
            pull: Pull::Up,
            open_level: PinLevel::High,
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                HalError::Unavailable {
                    device: "door sensor",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn ina219_off_a_pi_is_unavailable_with_a_hint() {
        let config = Ina219Config {
            bus: 250,
            ..Ina219Config::default()
        };
        let err = Ina219Battery::new(config).unwrap_err();
        assert!(
            matches!(
                err,
                HalError::Unavailable {
                    device: "battery",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("/dev/i2c-250"), "{err}");
    }

    #[test]
    fn ina219_rejects_a_zero_shunt() {
        let config = Ina219Config {
            shunt_milliohms: 0,
            ..Ina219Config::default()
        };
        assert!(Ina219Battery::new(config)
            .unwrap_err()
            .to_string()
            .contains("0 mΩ"));
        assert!(ina219_sample(0, 0, &config).is_err());
    }

    #[test]
    fn ina219_register_maths_on_sample_values() {
        let config = Ina219Config::default();
        // A 1S cell at 4.0 V: 4000 mV / 4 mV = 1000 steps, shifted left 3 = 0x1F40.
        let sample = ina219_sample(0x1F40, 0x0000, &config).unwrap();
        assert_eq!(
            sample,
            Ina219Sample {
                millivolts: 4000,
                current_ma: 0
            }
        );
        // Conversion-ready and overflow flags do not disturb the voltage.
        assert_eq!(ina219_sample(0x1F43, 0, &config).unwrap().millivolts, 4000);
        // 3.7 V is 925 steps: 925 << 3 = 0x1CE8.
        assert_eq!(ina219_sample(0x1CE8, 0, &config).unwrap().millivolts, 3700);
        // Full scale: 0xFFF8 → 8191 × 4 mV.
        assert_eq!(
            ina219_sample(0xFFF8, 0, &config).unwrap().millivolts,
            32_764
        );

        // Shunt +50.00 mV = 5000 steps of 10 µV over 0.1 Ω → +500 mA (charging).
        assert_eq!(
            ina219_sample(0x1F40, 5000, &config).unwrap().current_ma,
            500
        );
        // Shunt −80.00 mV (two's complement of 8000 = 0xE0C0) → −800 mA (discharging).
        assert_eq!(
            ina219_sample(0x1F40, 0xE0C0, &config).unwrap().current_ma,
            -800
        );
        // Extremes of the register.
        assert_eq!(ina219_sample(0, 0x7FFF, &config).unwrap().current_ma, 3276);
        assert_eq!(ina219_sample(0, 0x8000, &config).unwrap().current_ma, -3276);

        // A shunt wired the other way round.
        let reversed = Ina219Config {
            charge_current_positive: false,
            ..config
        };
        assert_eq!(ina219_sample(0, 0xE0C0, &reversed).unwrap().current_ma, 800);
        // A 10 mΩ shunt: the same 80 mV is 8 A.
        let small = Ina219Config {
            shunt_milliohms: 10,
            ..config
        };
        assert_eq!(ina219_sample(0, 0xE0C0, &small).unwrap().current_ma, -8000);
    }

    #[test]
    fn ina219_reading_decides_charging_with_an_idle_band() {
        let config = Ina219Config::default();
        let reading = |mv, ma| {
            ina219_reading(
                Ina219Sample {
                    millivolts: mv,
                    current_ma: ma,
                },
                &config,
            )
        };
        assert_eq!(
            reading(3840, -800),
            BatteryReading {
                millivolts: Some(3840),
                percent: Some(50),
                charging: false
            }
        );
        assert!(reading(4200, 500).charging);
        // Full on the charger: a trickle either way is still external power.
        assert!(reading(4200, -5).charging);
        assert!(reading(4200, 0).charging);
        assert!(!reading(4200, -30).charging);
        // Two cells.
        let two = Ina219Config { cells: 2, ..config };
        let reading = ina219_reading(
            Ina219Sample {
                millivolts: 8400,
                current_ma: 0,
            },
            &two,
        );
        assert_eq!(reading.percent, Some(100));
    }

    proptest! {
        #[test]
        fn ina219_maths_never_panics(
            bus in any::<u16>(),
            shunt in any::<u16>(),
            shunt_milliohms in 1u32..,
            positive in any::<bool>(),
            cells in any::<u8>(),
            idle_ma in any::<u32>(),
        ) {
            let config = Ina219Config {
                shunt_milliohms,
                charge_current_positive: positive,
                cells,
                idle_ma,
                ..Ina219Config::default()
            };
            let sample = ina219_sample(bus, shunt, &config).unwrap();
            prop_assert!(sample.millivolts <= 32_764);
            prop_assert!(sample.current_ma.unsigned_abs() <= 327_680);
            let reading = ina219_reading(sample, &config);
            prop_assert!(reading.percent.unwrap_or(0) <= 100);
        }
    }
}
