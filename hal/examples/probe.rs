//! Reads the door contact and the battery once and prints what it sees, for an installer
//! checking the wiring: `cargo run -p hal --features rpi --example probe -- [DOOR_PIN] [SUPPLY]`.
//!
//! It never touches the relay: a probe must not open a door.

use hal::Battery;

fn main() {
    let mut args = std::env::args().skip(1);
    let door_pin: u8 = args.next().and_then(|a| a.parse().ok()).unwrap_or(27);
    let supply = args.next().unwrap_or_else(|| "BAT0".to_owned());

    #[cfg(feature = "rpi")]
    {
        use hal::rpi::{
            GpioDoorConfig, GpioDoorSensor, Ina219Battery, Ina219Config, PinLevel, Pull,
        };
        use hal::DoorSensor;
        let door = GpioDoorSensor::new(GpioDoorConfig {
            pin: door_pin,
            pull: Pull::Up,
            open_level: PinLevel::High,
        });
        match door.and_then(|door| door.is_open()) {
            Ok(open) => println!(
                "door contact on GPIO {door_pin}: {}",
                if open { "open" } else { "closed" }
            ),
            Err(e) => println!("door contact on GPIO {door_pin}: {e}"),
        }
        match Ina219Battery::new(Ina219Config::default()).and_then(|b| b.read()) {
            Ok(reading) => println!("INA219: {reading:?}"),
            Err(e) => println!("INA219: {e}"),
        }
    }
    #[cfg(not(feature = "rpi"))]
    println!("GPIO and INA219: built without the `rpi` feature (door pin {door_pin} not read)");

    match hal::sysfs::SysfsBattery::new(&supply).and_then(|b| b.read()) {
        Ok(reading) => println!("power supply {supply}: {reading:?}"),
        Err(e) => println!("power supply {supply}: {e}"),
    }
}
