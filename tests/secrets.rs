//! The API key never appears in Debug output, errors, or the log.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seedance_assets::api::{AssetType, CreateAssetRequest};
use seedance_assets::config::Config;
use seedance_assets::sim::{FaultRates, SimConfig};

const KEY: &str = "sk-LEAK-CANARY-7f3a9";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_key_never_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, format!("[api]\napi_key = \"{KEY}\"\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let loaded = Config::load(&path).unwrap();
    assert!(!format!("{loaded:?}").contains(KEY));

    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let cfg = SimConfig {
            api_key: KEY.into(),
            faults: FaultRates { http500: 0.25, http503: 0.25, ..Default::default() },
            ..common::quick_sim_config()
        };
        let sim = seedance_assets::sim::Sim::start_local(cfg).await.unwrap();
        let group = sim.state().add_group("g");
        let good = common::client_with(&sim, KEY, Duration::from_secs(2));
        assert!(!format!("{good:?}").contains(KEY));
        let req = CreateAssetRequest {
            group_id: group,
            url: "https://e.com/a.png".into(),
            asset_type: AssetType::Image,
            name: "a".into(),
        };
        for _ in 0..5 {
            if let Err(e) = good.create_asset(&req).await {
                assert!(!format!("{e:?} {e}").contains(KEY));
            }
        }
        let wrong = common::client_with(&sim, &format!("{KEY}-wrong"), Duration::from_secs(2));
        let e = wrong.create_asset(&req).await.unwrap_err();
        assert!(!format!("{e:?} {e}").contains(KEY), "{e:?}");
    });
    drop(rt);
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.len() > 100, "the capture saw the requests: {log}");
    assert!(!log.contains(KEY), "the key leaked into the log");
}
