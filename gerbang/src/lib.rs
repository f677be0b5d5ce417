//! All-in-one Gerbang: the cloud API and one or more simulated doors in one process.
//!
//! This is the demo (`cargo run --release`) and a real mode for a one-box site. The doors
//! enrol against the cloud through the same HTTP endpoint a Raspberry Pi uses, and talk to
//! it over the same broker, so nothing here is a shortcut. [`visitors`] puts real face
//! photos in front of the doors' simulated cameras.

pub mod visitors;

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::Context;
use cloud_api::Cloud;
use edge_daemon::{config::EdgeConfig, daemon, enroll, identity::Identity, sim, vision::Purpose};
use protocol::{DeviceId, SiteId};
use tokio_util::sync::CancellationToken;

/// The site the simulated doors belong to.
pub const DEMO_SITE: &str = "demo";

/// A running all-in-one process.
pub struct AllInOne {
    pub cloud: Cloud,
    pub doors: Vec<(DeviceId, daemon::Running)>,
    /// The attendance kiosk the demo's visitors check in at (with the visitors only).
    pub kiosk: Option<(DeviceId, daemon::Running)>,
    pub admin_email: String,
    /// Where the generated admin password is kept, when it was generated.
    pub admin_password_file: Option<PathBuf>,
}

impl AllInOne {
    /// Waits until everything has stopped after `shutdown` was cancelled.
    pub async fn stopped(self) {
        for (_, door) in self.doors.into_iter().chain(self.kiosk) {
            door.stopped().await;
        }
        self.cloud.stopped().await;
    }
}

/// Starts the cloud from `GERBANG_*` configuration and `doors` simulated doors beside it.
pub async fn start(doors: usize, shutdown: CancellationToken) -> anyhow::Result<AllInOne> {
    let mut config = cloud_api::load_config(None)
        .map_err(|e| anyhow::anyhow!(e))
        .context("reading the configuration")?;
    fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let admin_password_file = cloud_api::default_first_admin(&mut config)
        .context("writing the generated admin password")?;
    let admin_email = config.admin_email.clone().unwrap_or_default();
    let admin_password = config.admin_password.clone().unwrap_or_default();
    let data_dir = config.data_dir.clone();
    let cloud = cloud_api::start(config, shutdown.clone())
        .await
        .context("starting the cloud")?;
    let cast = demo_cast(&cloud, &admin_email, &admin_password).await;
    cloud_api::meals::seed_demo(cloud.database())
        .await
        .context("seeding the meals demo")?;
    cloud_api::sakip::seed_demo(cloud.platform())
        .await
        .context("seeding the SAKIP demo")?;
    cloud_api::live::seed_demo(cloud.platform())
        .await
        .context("seeding the ChatMe demo")?;

    let mut running = Vec::with_capacity(doors);
    for n in 1..=doors {
        let device = DeviceId::parse(format!("door-{n}"))?;
        let name = if n == 1 {
            "Pintu Utama".to_owned()
        } else {
            format!("Pintu {n}")
        };
        let door = start_door(
            &cloud,
            &data_dir,
            Station {
                device: &device,
                name: &name,
                purpose: Purpose::Door,
                first: n == 1,
            },
            cast.as_ref(),
            shutdown.clone(),
        )
        .await
        .with_context(|| format!("starting simulated door {device}"))?;
        running.push((device, door));
    }
    // With the visitors, a kiosk they check in at: the attendance pages have a day to show
    // (unless `GERBANG_DEMO_KIOSK=0`).
    let kiosk_wanted = !std::env::var("GERBANG_DEMO_KIOSK").is_ok_and(|v| v == "0" || v == "false");
    let kiosk = match &cast {
        Some(cast) if kiosk_wanted => {
            let device = DeviceId::parse("kiosk-1")?;
            let kiosk = start_door(
                &cloud,
                &data_dir,
                Station {
                    device: &device,
                    name: "Kios Absensi",
                    purpose: Purpose::Attendance,
                    first: false,
                },
                Some(cast),
                shutdown.clone(),
            )
            .await
            .with_context(|| format!("starting the attendance kiosk {device}"))?;
            Some((device, kiosk))
        }
        _ => None,
    };
    Ok(AllInOne {
        cloud,
        doors: running,
        kiosk,
        admin_email,
        admin_password_file,
    })
}

/// The demo's visitors, with Obama and Biden enrolled, unless `GERBANG_DEMO_VISITORS=0` or
/// the test photos are not there (a packaged install).
async fn demo_cast(cloud: &Cloud, email: &str, password: &str) -> Option<visitors::Cast> {
    if std::env::var("GERBANG_DEMO_VISITORS").is_ok_and(|v| v == "0" || v == "false") {
        return None;
    }
    let dir = visitors::testdata_dir();
    let cast = match visitors::Cast::load(&dir) {
        Ok(cast) => cast,
        Err(error) => {
            tracing::info!(%error, "No demo visitors (the test photos are not here).");
            return None;
        }
    };
    if let Err(error) = visitors::enrol(cloud.public_url(), email, password, &dir).await {
        tracing::warn!(error = %format!("{error:#}"), "Demo people not enrolled; visitors will be strangers.");
    }
    Some(cast)
}

/// What a simulated station at the demo site is.
struct Station<'a> {
    device: &'a DeviceId,
    name: &'a str,
    purpose: Purpose,
    /// The first door keeps the configured kiosk port.
    first: bool,
}

async fn start_door(
    cloud: &Cloud,
    data_dir: &Path,
    station: Station<'_>,
    cast: Option<&visitors::Cast>,
    shutdown: CancellationToken,
) -> anyhow::Result<daemon::Running> {
    let device = station.device;
    let mut config = EdgeConfig::load(None).map_err(|e| anyhow::anyhow!(e))?;
    if cast.is_some() {
        // The parallax cue is on by default: the printed photo of Biden is refused.
        config.vision.enabled = true;
    }
    config.vision.purpose = station.purpose;
    if station.purpose == Purpose::Attendance {
        // People check in here; nobody leaves through it.
        config.sim.traffic = false;
    }
    config.data_dir = data_dir.join("edge").join(device.as_str());
    if !station.first {
        // One screen per machine: the first door's kiosk keeps the configured port, the
        // others take a free one (logged at start).
        config.kiosk.listen.set_port(0);
    }
    // The broker may listen elsewhere than at enrolment (a fallback port), so always point
    // the door at where the cloud is now.
    config.cloud.url = Some(cloud.public_url().to_owned());
    config.cloud.mqtt_url = Some(cloud.mqtt_url().to_owned());
    if !Identity::exists(&config.data_dir) {
        let site = SiteId::parse(DEMO_SITE)?;
        let code = cloud.create_device(&site, device, station.name).await?;
        enroll::enroll(
            cloud.public_url(),
            &code.code,
            &config.data_dir,
            None,
            false,
        )
        .await?;
        tracing::info!(%device, "Simulated door enrolled.");
    }
    let (hardware, world) = sim::hardware();
    let camera = world.camera.clone();
    let running = daemon::start(&config, hardware, Some(world), shutdown.clone()).await?;
    if let Some(cast) = cast {
        // The kiosk sees fewer people than the door: it shares the machine's cores.
        let gap = match station.purpose {
            Purpose::Door => 8,
            Purpose::Attendance => 30,
        };
        tokio::spawn(visitors::run(
            camera,
            cast.clone(),
            std::time::Duration::from_secs(gap),
            shutdown,
        ));
    }
    Ok(running)
}
