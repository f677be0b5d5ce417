//! A simulated Li-ion battery that drains on battery power and charges on mains.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::lock;
use crate::liion::{millivolts_from_percent, percent_from_millivolts};
use crate::{Battery, BatteryReading, HalError};

/// Which clock moves the simulated battery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimTime {
    /// `tokio::time::Instant`: real time in the demo, `tokio::time::advance` in paused tests.
    /// [`SimBattery::advance`] still adds on top.
    #[default]
    Tokio,
    /// Only [`SimBattery::advance`] moves it.
    Manual,
}

/// The simulated battery's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SimBatteryConfig {
    /// Capacity in milliampere-hours. 0 is taken as 1 so rates stay finite.
    pub capacity_mah: u32,
    /// Current drawn from the battery when off mains.
    pub discharge_ma: u32,
    /// Net current into the battery when on mains (until full).
    pub charge_ma: u32,
    /// Cells in series (1S, 2S, …); 0 is taken as 1.
    pub cells: u8,
    /// State of charge at the start, 0–100.
    pub initial_percent: f64,
    /// Whether mains power is present at the start.
    pub on_mains: bool,
    pub time: SimTime,
}

impl Default for SimBatteryConfig {
    /// A small 1S UPS board for a Pi: 3000 mAh, 1 A load, 1.5 A charge, full, on mains.
    fn default() -> Self {
        Self {
            capacity_mah: 3000,
            discharge_ma: 1000,
            charge_ma: 1500,
            cells: 1,
            initial_percent: 100.0,
            on_mains: true,
            time: SimTime::Tokio,
        }
    }
}

#[derive(Debug)]
struct State {
    config: SimBatteryConfig,
    /// State of charge, 0–100, kept fractional so short steps are not lost to rounding.
    percent: f64,
    on_mains: bool,
    /// When the charge was last brought up to date (tokio time), for [`SimTime::Tokio`].
    last: tokio::time::Instant,
    fault: Option<String>,
}

impl State {
    /// Brings the charge up to date with the clock, under the current power source.
    fn catch_up(&mut self) {
        let now = tokio::time::Instant::now();
        if self.config.time == SimTime::Tokio {
            let elapsed = now.saturating_duration_since(self.last);
            self.step(elapsed);
        }
        self.last = now;
    }

    /// Coulomb counting: percent moves by current × time / capacity.
    fn step(&mut self, elapsed: Duration) {
        let hours = elapsed.as_secs_f64() / 3600.0;
        let capacity = f64::from(self.config.capacity_mah.max(1));
        let delta = if self.on_mains {
            f64::from(self.config.charge_ma) * hours / capacity * 100.0
        } else {
            -f64::from(self.config.discharge_ma) * hours / capacity * 100.0
        };
        self.percent = (self.percent + delta).clamp(0.0, 100.0);
    }
}

/// A battery in memory. Reports the terminal voltage from the Li-ion curve (scaled by the
/// cell count), the percentage derived from it like a voltage-only monitor would, and
/// `charging` while on mains.
#[derive(Debug, Clone)]
pub struct SimBattery {
    state: Arc<Mutex<State>>,
}

impl SimBattery {
    pub fn new(config: SimBatteryConfig) -> Self {
        let percent = clamp_percent(config.initial_percent);
        let on_mains = config.on_mains;
        Self {
            state: Arc::new(Mutex::new(State {
                config,
                percent,
                on_mains,
                last: tokio::time::Instant::now(),
                fault: None,
            })),
        }
    }

    /// Plugs in (`true`) or pulls (`false`) mains power. Time before the switch counts under
    /// the previous source.
    pub fn set_on_mains(&self, on_mains: bool) {
        let mut state = lock(&self.state);
        state.catch_up();
        state.on_mains = on_mains;
    }

    pub fn on_mains(&self) -> bool {
        lock(&self.state).on_mains
    }

    /// Lets `by` pass for the battery, on top of whatever its clock did.
    pub fn advance(&self, by: Duration) {
        let mut state = lock(&self.state);
        state.catch_up();
        state.step(by);
    }

    /// The exact state of charge (0–100) the simulation holds.
    pub fn percent(&self) -> f64 {
        let mut state = lock(&self.state);
        state.catch_up();
        state.percent
    }

    /// Sets the state of charge (clamped to 0–100; NaN counts as 0).
    pub fn set_percent(&self, percent: f64) {
        let mut state = lock(&self.state);
        state.catch_up();
        state.percent = clamp_percent(percent);
    }

    /// Makes readings fail with [`HalError::Io`] carrying `reason`, or (`None`) work again.
    pub fn set_fault(&self, reason: Option<String>) {
        lock(&self.state).fault = reason;
    }
}

impl Default for SimBattery {
    fn default() -> Self {
        Self::new(SimBatteryConfig::default())
    }
}

fn clamp_percent(percent: f64) -> f64 {
    if percent.is_nan() {
        0.0
    } else {
        percent.clamp(0.0, 100.0)
    }
}

impl Battery for SimBattery {
    fn read(&self) -> Result<BatteryReading, HalError> {
        let mut state = lock(&self.state);
        if let Some(reason) = &state.fault {
            return Err(HalError::Io {
                device: "battery",
                reason: reason.clone(),
            });
        }
        state.catch_up();
        let millivolts = millivolts_from_percent(state.percent, state.config.cells);
        Ok(BatteryReading {
            millivolts: Some(millivolts),
            percent: Some(percent_from_millivolts(millivolts, state.config.cells)),
            charging: state.on_mains,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn manual(percent: f64, on_mains: bool) -> SimBattery {
        SimBattery::new(SimBatteryConfig {
            capacity_mah: 2000,
            discharge_ma: 1000,
            charge_ma: 500,
            initial_percent: percent,
            on_mains,
            time: SimTime::Manual,
            ..SimBatteryConfig::default()
        })
    }

    #[test]
    fn drains_on_battery_by_coulomb_counting() {
        let battery = manual(100.0, false);
        battery.advance(HOUR);
        assert!((battery.percent() - 50.0).abs() < 1e-9);
        let reading = battery.read().unwrap();
        assert_eq!(reading.millivolts, Some(3840));
        assert_eq!(reading.percent, Some(50));
        assert!(!reading.charging);
        battery.advance(HOUR * 5);
        assert_eq!(battery.percent(), 0.0);
        assert_eq!(battery.read().unwrap().millivolts, Some(3300));
    }

    #[test]
    fn charges_on_mains_and_stops_at_full() {
        let battery = manual(20.0, true);
        battery.advance(HOUR);
        assert!((battery.percent() - 45.0).abs() < 1e-9);
        assert!(battery.read().unwrap().charging);
        battery.advance(HOUR * 10);
        let reading = battery.read().unwrap();
        assert_eq!(
            (reading.millivolts, reading.percent),
            (Some(4200), Some(100))
        );
    }

    #[test]
    fn cell_count_scales_the_voltage() {
        let battery = SimBattery::new(SimBatteryConfig {
            cells: 3,
            initial_percent: 100.0,
            time: SimTime::Manual,
            ..SimBatteryConfig::default()
        });
        assert_eq!(battery.read().unwrap().millivolts, Some(12_600));
    }

    #[test]
    fn manual_time_ignores_the_clock() {
        let battery = manual(80.0, false);
        assert_eq!(battery.percent(), 80.0);
        battery.set_percent(f64::NAN);
        assert_eq!(battery.percent(), 0.0);
        battery.set_percent(150.0);
        assert_eq!(battery.percent(), 100.0);
    }

    #[test]
    fn fault_fails_reads() {
        let battery = manual(80.0, false);
        battery.set_fault(Some("i2c nack".into()));
        assert_eq!(
            battery.read().unwrap_err().to_string(),
            "battery failed: i2c nack"
        );
        battery.set_fault(None);
        assert!(battery.read().is_ok());
    }

    #[test]
    fn zero_capacity_does_not_divide_by_zero() {
        let battery = SimBattery::new(SimBatteryConfig {
            capacity_mah: 0,
            on_mains: false,
            time: SimTime::Manual,
            ..SimBatteryConfig::default()
        });
        battery.advance(HOUR);
        assert_eq!(battery.percent(), 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn follows_paused_tokio_time_across_a_power_cut() {
        // 3000 mAh, 1 A out, 1.5 A in.
        let battery = SimBattery::new(SimBatteryConfig {
            initial_percent: 100.0,
            on_mains: true,
            ..SimBatteryConfig::default()
        });
        let world = battery.clone();
        let daemon: Arc<dyn Battery> = Arc::new(battery);

        tokio::time::advance(HOUR).await;
        assert_eq!(daemon.read().unwrap().percent, Some(100));

        world.set_on_mains(false);
        tokio::time::advance(HOUR).await;
        let reading = daemon.read().unwrap();
        assert!(!reading.charging);
        assert!((world.percent() - 200.0 / 3.0).abs() < 1e-6);

        world.set_on_mains(true);
        tokio::time::advance(Duration::from_secs(1200)).await;
        // 1.5 A for 20 min into 3000 mAh is 16.7 points.
        assert!((world.percent() - (200.0 / 3.0 + 50.0 / 3.0)).abs() < 1e-6);
        assert!(daemon.read().unwrap().charging);
    }

    proptest! {
        #[test]
        fn charge_stays_in_range_and_moves_the_right_way(
            start in 0.0f64..=100.0,
            steps in proptest::collection::vec((any::<bool>(), 0u64..100_000), 0..20),
        ) {
            let battery = manual(start, false);
            for (on_mains, secs) in steps {
                battery.set_on_mains(on_mains);
                let before = battery.percent();
                battery.advance(Duration::from_secs(secs));
                let after = battery.percent();
                prop_assert!((0.0..=100.0).contains(&after));
                if on_mains {
                    prop_assert!(after >= before);
                } else {
                    prop_assert!(after <= before);
                }
                let reading = battery.read().unwrap();
                prop_assert_eq!(reading.charging, on_mains);
                prop_assert!(reading.percent.unwrap_or(0) <= 100);
            }
        }
    }
}
