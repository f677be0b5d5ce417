//! Configuration → hardware: `[hal]` in TOML (and the environment) selects the backends, and
//! each one that cannot be had on this machine (no GPIO, no camera node, a backend not
//! compiled in) fails at start with a message saying what to fix.

use std::path::Path;

use edge_daemon::{
    config::EdgeConfig,
    hardware::{self, BatterySource, CameraSource, HalBackend, HardwareError, Level, PullSetting},
};
use hal::HalError;

fn load(toml: &str) -> EdgeConfig {
    let mut config = None;
    figment::Jail::expect_with(|jail| {
        jail.create_file("edge.toml", toml)?;
        config = Some(EdgeConfig::load(Some(Path::new("edge.toml")))?);
        Ok(())
    });
    config.expect("loaded")
}

fn build(config: &EdgeConfig) -> Result<hardware::Built, HardwareError> {
    hardware::build(&config.hal, config.door.fail_mode)
}

#[test]
fn defaults_are_the_simulated_door_with_its_camera() {
    let config = EdgeConfig::default();
    assert_eq!(config.hal.backend, HalBackend::Sim);
    let built = build(&config).unwrap();
    let world = built.world.expect("the sim backend has a world");
    let camera = built.hardware.camera.expect("the sim door has a camera");
    // The camera handed to the daemon is the world's: what the world shows, it captures.
    let photo = image::RgbImage::from_pixel(32, 24, image::Rgb([200, 10, 10]));
    world.camera.show(photo.clone());
    assert_eq!(camera.capture().unwrap().image, photo);
    assert!(built.hardware.battery.read().unwrap().millivolts.is_some());
}

#[test]
fn gpio_wiring_parses_from_toml_and_the_environment() {
    let mut config = None;
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "edge.toml",
            r#"
[hal]
backend = "rpi"
[hal.relay]
pin = 22
active = "low"
energised_locks = false
[hal.contact]
pin = 5
pull = "down"
open_level = "low"
[hal.battery]
source = "ina219"
address = 0x41
[hal.camera]
source = "v4l2"
index = 2
"#,
        )?;
        jail.set_env("GERBANG_HAL__CONTACT__PIN", "6");
        config = Some(EdgeConfig::load(Some(Path::new("edge.toml")))?);
        Ok(())
    });
    let hal = config.unwrap().hal;
    assert_eq!(hal.backend, HalBackend::Rpi);
    assert_eq!(hal.relay.pin, 22);
    assert_eq!(hal.relay.active, Level::Low);
    assert!(!hal.relay.energised_locks);
    assert_eq!(hal.contact.pin, 6, "the environment overrides the file");
    assert_eq!(hal.contact.pull, PullSetting::Down);
    assert_eq!(hal.contact.open_level, Level::Low);
    assert_eq!(
        hal.battery,
        BatterySource::Ina219 {
            bus: 1,
            address: 0x41,
            shunt_milliohms: 100,
            cells: 1
        }
    );
    assert_eq!(
        hal.camera,
        CameraSource::V4l2 {
            index: 2,
            width: 640,
            height: 480,
            fps: 15
        }
    );
}

#[test]
fn the_rpi_backend_off_a_pi_says_what_is_missing() {
    let config = load("[hal]\nbackend = \"rpi\"\n");
    let err = build(&config).unwrap_err();
    if cfg!(feature = "rpi") {
        // This machine has no GPIO controller (a Pi would have /dev/gpiomem).
        if Path::new("/dev/gpiomem").exists() {
            return;
        }
        match err {
            HardwareError::Device(HalError::Unavailable { device, reason }) => {
                assert_eq!(device, "relay");
                assert!(reason.contains("/dev/gpiomem"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    } else {
        assert!(
            matches!(err, HardwareError::NotBuilt { feature: "rpi", .. }),
            "{err:?}"
        );
    }
}

#[test]
fn a_missing_camera_node_or_backend_is_an_error_not_a_simulation() {
    let config = load("[hal.camera]\nsource = \"v4l2\"\nindex = 9\n");
    let err = build(&config).unwrap_err();
    if cfg!(feature = "nokhwa") {
        let text = err.to_string();
        assert!(text.contains("/dev/video9 does not exist"), "{text}");
    } else {
        assert!(
            matches!(
                err,
                HardwareError::NotBuilt {
                    feature: "nokhwa",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("--features nokhwa"));
    }

    let config = load("[hal.camera]\nsource = \"stream\"\nurl = \"/nonexistent/door.avi\"\n");
    let err = build(&config).unwrap_err();
    if cfg!(feature = "opencv") {
        assert!(err.to_string().contains("does not exist"), "{err}");
    } else {
        assert!(
            matches!(
                err,
                HardwareError::NotBuilt {
                    feature: "opencv",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn battery_sources_select_the_battery() {
    let config = load("[hal.battery]\nsource = \"none\"\n");
    let reading = build(&config).unwrap().hardware.battery.read().unwrap();
    assert_eq!(reading.percent, None);
    assert_eq!(reading.millivolts, None);
    assert!(reading.charging, "mains only means external power");

    let config = load("[hal.battery]\nsource = \"sysfs\"\nname = \"NO-SUCH-SUPPLY\"\n");
    match build(&config).unwrap_err() {
        HardwareError::Device(HalError::Unavailable { device, reason }) => {
            assert_eq!(device, "battery");
            assert!(reason.contains("NO-SUCH-SUPPLY"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_sim_camera_plays_a_folder_of_real_photos() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/testdata/people/obama");
    let config = load(&format!(
        "[hal.camera]\nsource = \"sim\"\nfolder = {:?}\n",
        folder.display().to_string()
    ));
    let camera = build(&config).unwrap().hardware.camera.unwrap();
    let first = image::open(folder.join("obama.jpg")).unwrap().to_rgb8();
    assert_eq!(
        camera.capture().unwrap().image.dimensions(),
        first.dimensions()
    );

    let config = load("[hal.camera]\nsource = \"none\"\n");
    assert!(build(&config).unwrap().hardware.camera.is_none());
    let config = load("[hal.camera]\nsource = \"sim\"\nfolder = \"/nonexistent\"\n");
    assert!(matches!(
        build(&config).unwrap_err(),
        HardwareError::Device(HalError::Unavailable { .. })
    ));
}
