//! Erasure reaches every door (issue #21), end to end: two doors (the real daemon, with the
//! real face models on the real photos) against a real cloud, door A connected directly,
//! door B through TCP links the test can cut. Obama is erased while B is offline: A stops
//! recognising him within 60 s; B, reconnected, denies him on its first decision. A door
//! offline for longer than its maximum gallery age denies every face as `gallery_stale`
//! (even Biden, who is still enrolled) until it has confirmed its gallery again.

mod support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use cloud_api::testkit::{unique_site, Backend, BrokerKind};
use edge_daemon::{config::EdgeConfig, daemon, vision::Verdict};
use protocol::{AccessResult, DenyReason, SiteId};
use support::*;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{broadcast, watch},
};
use tokio_util::sync::CancellationToken;

/// A TCP link to `target` that the test can cut (open connections drop, new ones are
/// closed at once) and restore, on a port of its own.
struct Cuttable {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl Cuttable {
    async fn to(target: SocketAddr) -> Cuttable {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, state) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut state = state.clone();
                if !*state.borrow() {
                    continue; // dropped: closed at once
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Cuttable { addr, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// A door of the test: the running daemon, its simulated camera and what it decides.
struct Door {
    running: daemon::Running,
    camera: hal::sim::SimCamera,
    verdicts: broadcast::Receiver<Verdict>,
    shutdown: CancellationToken,
    /// Stops the door when a failed assertion drops it: its camera loop, a blocking task,
    /// would otherwise keep the runtime from ending and the failure would never be reported.
    _stop_on_drop: tokio_util::sync::DropGuard,
    _dir: tempfile::TempDir,
}

impl Door {
    /// Enrols `name` and starts it with the camera loop, talking to the cloud at `http`
    /// and `mqtt` (`host:port`).
    async fn start(
        site: &Site,
        site_id: &SiteId,
        name: &str,
        http: &str,
        mqtt: &str,
        adjust: impl FnOnce(&mut EdgeConfig),
    ) -> Door {
        let dir = tempfile::tempdir().unwrap();
        let code = site.code_for(site_id, name).await;
        edge_daemon::enroll::enroll(&site.url(""), &code, dir.path(), None, false)
            .await
            .unwrap();
        let mut config = vision_door_config(dir.path(), http, mqtt);
        adjust(&mut config);
        let (running, camera, shutdown) = start_sim_door(&config).await;
        let verdicts = running
            .vision
            .as_ref()
            .expect("camera loop")
            .camera
            .verdicts();
        Door {
            running,
            camera,
            verdicts,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
            _dir: dir,
        }
    }

    fn gallery(&self) -> &edge_daemon::gallery::GallerySync {
        &self.running.vision.as_ref().expect("camera loop").gallery
    }

    fn knows(&self, person: &str) -> bool {
        self.gallery().shared.current().person(person).is_some()
    }

    fn connected(&self) -> bool {
        self.running.sync.status().borrow().mqtt_connected
    }

    /// Shows `frames` until the door decides; that first decision.
    async fn first_decision(&mut self, frames: &[hal::RgbImage], what: &str) -> Verdict {
        // Whatever was decided before this visitor does not count.
        while self.verdicts.try_recv().is_ok() {}
        let walking = show_in_turn(&self.camera, frames.to_vec());
        let verdict =
            first_verdict(&mut self.verdicts, what, Duration::from_secs(90), |_| true).await;
        walking.cancel();
        self.camera.clear();
        // The person walks away before anyone else comes.
        tokio::time::sleep(Duration::from_secs(2)).await;
        verdict
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(60), self.running.stopped())
            .await
            .expect("the door stops within a minute");
    }
}

/// Waits until `check` holds for `door`.
async fn until(door: &Door, what: &str, limit: u64, check: impl Fn(&Door) -> bool) {
    eventually(Duration::from_secs(limit), what, || async {
        check(door).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_is_denied_online_within_60_s_and_offline_on_the_first_decision() {
    let site = Site::new(Backend::Sqlite, BrokerKind::Embedded).await;
    let photos = gerbang::visitors::testdata_dir();
    let base = site.url("");
    let enrol = || gerbang::visitors::enrol(&base, ADMIN_EMAIL, ADMIN_PASSWORD, &photos);
    enrol().await.unwrap();
    let cast = gerbang::visitors::Cast::load(&photos).unwrap();
    let admin = Admin::login(&site).await;
    let obama = admin.user_id("obama@demo.gerbang.local").await.unwrap();
    let site_id = unique_site("erase");
    let http = format!("127.0.0.1:{}", site.http_port);
    let mqtt = site.mqtt_url().trim_start_matches("mqtt://").to_owned();

    let mut a = Door::start(&site, &site_id, "door-a", &http, &mqtt, |_| {}).await;
    let http_link = Cuttable::to(http.parse().unwrap()).await;
    let mqtt_link = Cuttable::to(mqtt.parse().unwrap()).await;
    let cut = |up: bool| {
        http_link.set(up);
        mqtt_link.set(up);
    };
    let mut b = Door::start(
        &site,
        &site_id,
        "door-b",
        &http_link.addr.to_string(),
        &mqtt_link.addr.to_string(),
        |config| {
            // Connected, B confirms its gallery every 2 s; unconfirmed for 20 s, it is stale.
            config.vision.gallery_max_age_secs = 20;
            config.vision.gallery_check_secs = 2;
        },
    )
    .await;
    until(&a, "A holds Obama", 60, |a| a.knows(&obama)).await;
    until(&b, "B holds Obama, online", 60, |b| {
        b.knows(&obama) && b.connected()
    })
    .await;

    // B loses the cloud; Obama is erased meanwhile; B comes back well within its maximum
    // gallery age.
    cut(false);
    until(&b, "door B offline", 60, |b| !b.connected()).await;
    let status = admin.delete_user(&obama).await;
    assert!(status.is_success(), "{status}");
    let erased = Instant::now();
    // A, connected, stops recognising him within 60 s.
    until(&a, "A drops Obama", 60, |a| !a.knows(&obama)).await;
    assert!(erased.elapsed() < Duration::from_secs(60));
    assert!(b.knows(&obama), "B, offline, cannot have heard of it");
    cut(true);
    until(&b, "door B reconnected", 90, Door::connected).await;
    // B's first decision on Obama is a denial.
    let at_b = b
        .first_decision(&cast.obama, "B's first decision on Obama")
        .await;
    assert_eq!(at_b.result, AccessResult::Denied, "{at_b:?}");
    assert!(!b.knows(&obama), "B pulled the gallery without him");
    let at_a = a.first_decision(&cast.obama, "A's decision on Obama").await;
    assert_eq!(at_a.result, AccessResult::Denied, "{at_a:?}");
    assert_eq!(at_a.reason, Some(DenyReason::UnknownFace), "{at_a:?}");
    a.stop().await;

    // Obama enrols again. Offline for longer than its maximum age, B trusts no face, not
    // even his; connected again, it confirms its gallery first and lets him in.
    enrol().await.unwrap();
    let again = admin.user_id("obama@demo.gerbang.local").await.unwrap();
    until(&b, "B holds Obama again", 60, |b| b.knows(&again)).await;
    cut(false);
    until(&b, "door B stale", 90, |b| {
        !b.connected() && b.gallery().freshness.is_stale()
    })
    .await;
    let stale = b.first_decision(&cast.obama, "B's decision, stale").await;
    assert_eq!(stale.result, AccessResult::Denied, "{stale:?}");
    assert_eq!(stale.reason, Some(DenyReason::GalleryStale), "{stale:?}");
    cut(true);
    until(&b, "door B reconnected again", 90, Door::connected).await;
    let back = b.first_decision(&cast.obama, "B's decision, current").await;
    assert_eq!(back.result, AccessResult::Granted, "{back:?}");
    b.stop().await;
}
