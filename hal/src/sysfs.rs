//! A battery read from the kernel's power-supply class, `/sys/class/power_supply/<name>/`.
//!
//! Covers UPS boards and laptops whose driver registers a power supply: `capacity` (percent),
//! `voltage_now` (microvolts) and `status`. Each is optional, as drivers differ, but a file
//! that exists and holds something unexpected is an error, never a guess.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::{Battery, BatteryReading, HalError};

/// Where the kernel puts power supplies.
pub const DEFAULT_ROOT: &str = "/sys/class/power_supply";

const DEVICE: &str = "battery";

/// A power supply in the sysfs power-supply class.
#[derive(Debug, Clone)]
pub struct SysfsBattery {
    dir: PathBuf,
}

impl SysfsBattery {
    /// The supply `name` (e.g. `BAT0`) under [`DEFAULT_ROOT`].
    pub fn new(name: &str) -> Result<Self, HalError> {
        Self::with_root(DEFAULT_ROOT, name)
    }

    /// The supply `name` under `root`: tests point this at a temporary directory.
    ///
    /// Fails when `name` is not a plain directory name or the supply is not there; the error
    /// lists the supplies that are, so a wrong name in the configuration is quick to fix.
    pub fn with_root(root: impl AsRef<Path>, name: &str) -> Result<Self, HalError> {
        let root = root.as_ref();
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
            return Err(HalError::Unavailable {
                device: DEVICE,
                reason: format!("{name:?} is not a power-supply name"),
            });
        }
        let dir = root.join(name);
        if !dir.is_dir() {
            let found = list_supplies(root);
            let found = if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            };
            return Err(HalError::Unavailable {
                device: DEVICE,
                reason: format!(
                    "no power supply {name:?} under {} (found: {found})",
                    root.display()
                ),
            });
        }
        Ok(Self { dir })
    }

    /// The directory this supply is read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The trimmed contents of attribute `name`, or `None` when the driver does not provide it.
    fn attribute(&self, name: &str) -> Result<Option<String>, HalError> {
        let path = self.dir.join(name);
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, &e.to_string())),
        };
        // Attributes are a line long; the cap keeps a wrong path from reading a huge file.
        let mut bytes = Vec::new();
        file.take(4096)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&path, &e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| io_error(&path, "not UTF-8 text"))?;
        Ok(Some(text.trim().to_owned()))
    }
}

fn io_error(path: &Path, reason: &str) -> HalError {
    HalError::Io {
        device: DEVICE,
        reason: format!("{}: {reason}", path.display()),
    }
}

fn list_supplies(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `capacity`: an integer percentage. Some fuel gauges overshoot to 101–102 % right after a
/// charge; those are clamped, while negative or non-numeric values are errors.
pub fn parse_capacity(text: &str) -> Result<u8, String> {
    let value: i64 = text
        .parse()
        .map_err(|_| format!("capacity {text:?} is not an integer percentage"))?;
    if value < 0 {
        return Err(format!("capacity {value} is negative"));
    }
    Ok(u8::try_from(value.min(100)).unwrap_or(100))
}

/// `voltage_now`: microvolts, to millivolts (rounded down).
pub fn parse_voltage_now(text: &str) -> Result<u32, String> {
    let microvolts: u64 = text
        .parse()
        .map_err(|_| format!("voltage_now {text:?} is not a whole number of microvolts"))?;
    u32::try_from(microvolts / 1000)
        .map_err(|_| format!("voltage_now {microvolts} µV is out of range"))
}

/// `status`: whether external power is feeding the system. "Full" and "Not charging" are on
/// external power (held full, or paused by the charger) so the daemon does not raise an
/// "on battery" alert for them; "Unknown" is read as on battery, the cautious side.
pub fn parse_status(text: &str) -> Result<bool, String> {
    match text {
        "Charging" | "Full" | "Not charging" => Ok(true),
        "Discharging" | "Unknown" => Ok(false),
        other => Err(format!("unrecognised status {other:?}")),
    }
}

impl Battery for SysfsBattery {
    fn read(&self) -> Result<BatteryReading, HalError> {
        // The error names the file, so an installer knows which attribute the driver garbled.
        let invalid = |name: &str| {
            let path = self.dir.join(name);
            move |error: String| io_error(&path, &error)
        };
        let percent = self
            .attribute("capacity")?
            .map(|text| parse_capacity(&text).map_err(invalid("capacity")))
            .transpose()?;
        let millivolts = self
            .attribute("voltage_now")?
            .map(|text| parse_voltage_now(&text).map_err(invalid("voltage_now")))
            .transpose()?;
        // No `status` attribute: assume battery power, the cautious side.
        let charging = self
            .attribute("status")?
            .map(|text| parse_status(&text).map_err(invalid("status")))
            .transpose()?
            .unwrap_or(false);
        if percent.is_none() && millivolts.is_none() {
            return Err(HalError::Io {
                device: DEVICE,
                reason: format!(
                    "{} has neither capacity nor voltage_now",
                    self.dir.display()
                ),
            });
        }
        Ok(BatteryReading {
            millivolts,
            percent,
            charging,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn supply(files: &[(&str, &str)]) -> (tempfile::TempDir, SysfsBattery) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("BAT0");
        fs::create_dir(&dir).unwrap();
        for (name, contents) in files {
            fs::write(dir.join(name), contents).unwrap();
        }
        let battery = SysfsBattery::with_root(root.path(), "BAT0").unwrap();
        (root, battery)
    }

    #[test]
    fn reads_a_typical_supply() {
        let (_root, battery) = supply(&[
            ("capacity", "87\n"),
            ("voltage_now", "4012345\n"),
            ("status", "Discharging\n"),
            ("type", "Battery\n"),
        ]);
        let reading = battery.read().unwrap();
        assert_eq!(
            reading,
            BatteryReading {
                millivolts: Some(4012),
                percent: Some(87),
                charging: false
            }
        );
    }

    #[test]
    fn missing_attributes_are_none() {
        let (_root, battery) = supply(&[("capacity", "40")]);
        let reading = battery.read().unwrap();
        assert_eq!(
            (reading.millivolts, reading.percent, reading.charging),
            (None, Some(40), false)
        );

        let (_root, battery) = supply(&[("voltage_now", "3700000"), ("status", "Full")]);
        let reading = battery.read().unwrap();
        assert_eq!(
            (reading.millivolts, reading.percent, reading.charging),
            (Some(3700), None, true)
        );
    }

    #[test]
    fn nothing_to_read_is_an_error() {
        let (_root, battery) = supply(&[("status", "Charging")]);
        let err = battery.read().unwrap_err();
        assert!(
            err.to_string().contains("neither capacity nor voltage_now"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        for (name, contents, expected) in [
            (
                "capacity",
                "lots",
                "capacity \"lots\" is not an integer percentage",
            ),
            ("capacity", "-3", "capacity -3 is negative"),
            ("capacity", "", "is not an integer"),
            ("voltage_now", "4.1V", "is not a whole number of microvolts"),
            ("voltage_now", "-1", "is not a whole number"),
            ("voltage_now", "99999999999999999", "out of range"),
            ("status", "Exploding", "unrecognised status \"Exploding\""),
        ] {
            let (_root, battery) = supply(&[
                ("capacity", "50"),
                ("voltage_now", "3800000"),
                (name, contents),
            ]);
            let err = battery.read().unwrap_err();
            assert!(
                matches!(
                    err,
                    HalError::Io {
                        device: "battery",
                        ..
                    }
                ),
                "{err}"
            );
            let message = err.to_string();
            assert!(message.contains(expected), "{name}={contents:?}: {message}");
            assert!(message.contains(name), "names the file: {message}");
        }
    }

    #[test]
    fn binary_contents_are_an_error() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("BAT0");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("capacity"), [0xff, 0xfe, 0x00]).unwrap();
        let battery = SysfsBattery::with_root(root.path(), "BAT0").unwrap();
        assert!(battery
            .read()
            .unwrap_err()
            .to_string()
            .contains("not UTF-8"));
    }

    #[test]
    fn unreadable_attribute_is_an_error() {
        // A directory where a file should be: opening works on Linux, reading fails.
        let (root, battery) = supply(&[("capacity", "50")]);
        fs::create_dir(root.path().join("BAT0/voltage_now")).unwrap();
        assert!(matches!(battery.read(), Err(HalError::Io { .. })));
    }

    #[test]
    fn capacity_overshoot_is_clamped() {
        let (_root, battery) = supply(&[("capacity", "102")]);
        assert_eq!(battery.read().unwrap().percent, Some(100));
    }

    #[test]
    fn status_mapping() {
        assert_eq!(parse_status("Charging"), Ok(true));
        assert_eq!(parse_status("Full"), Ok(true));
        assert_eq!(parse_status("Not charging"), Ok(true));
        assert_eq!(parse_status("Discharging"), Ok(false));
        assert_eq!(parse_status("Unknown"), Ok(false));
        assert!(parse_status("charging").is_err());
    }

    #[test]
    fn missing_supply_lists_what_is_there() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("AC")).unwrap();
        fs::create_dir(root.path().join("BAT1")).unwrap();
        let err = SysfsBattery::with_root(root.path(), "BAT0").unwrap_err();
        assert!(matches!(err, HalError::Unavailable { .. }));
        assert!(err.to_string().contains("(found: AC, BAT1)"), "{err}");

        let empty = tempfile::tempdir().unwrap();
        let err = SysfsBattery::with_root(empty.path().join("nope"), "BAT0").unwrap_err();
        assert!(err.to_string().contains("(found: none)"), "{err}");
    }

    #[test]
    fn names_that_escape_the_root_are_refused() {
        let root = tempfile::tempdir().unwrap();
        for name in ["", ".", "..", "../etc", "a/b"] {
            let err = SysfsBattery::with_root(root.path(), name).unwrap_err();
            assert!(
                err.to_string().contains("is not a power-supply name"),
                "{name}: {err}"
            );
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in ".{0,40}") {
            let _ = parse_capacity(&text);
            let _ = parse_voltage_now(&text);
            let _ = parse_status(&text);
        }

        #[test]
        fn capacity_is_clamped(value in any::<i64>()) {
            if let Ok(pct) = parse_capacity(&value.to_string()) {
                prop_assert!(pct <= 100);
            }
        }
    }
}
