//! The `[preflight]` table as the config file reads it: the example's
//! defaults, overrides and the ranges refused.

use std::path::Path;

use crate::config::Config;
use crate::preflight::{MediaLimits, PreflightConfig, PreflightMode, Unprobeable};

#[test]
fn the_example_file_documents_the_defaults() {
    let (c, _) = Config::parse(include_str!("../../config.example.toml"), Path::new("example")).unwrap();
    assert_eq!(c.preflight, PreflightConfig::default());
    assert_eq!(c.tls_ca_file, None);
}

#[test]
fn defaults_overrides_and_ranges() {
    let path = Path::new("/etc/sa/config.toml");
    let (c, warnings) = Config::parse("", path).unwrap();
    assert_eq!(c.preflight, PreflightConfig::default());
    assert_eq!(c.preflight.limits(), MediaLimits::default());
    assert_eq!(c.tls_options(path).ca_file, None);

    let text = "tls_ca_file = \"corp-ca.pem\"\n[preflight]\nmode = \"warn\"\nunprobeable = \"refuse\"\nconcurrency = 4\n[preflight.video]\nmax_secs = 30.0\n[preflight.image]\nmax_side = 8000\nshape = 1\n";
    let (c, warnings2) = Config::parse(text, path).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(warnings2.len(), 1, "{warnings2:?}");
    assert!(warnings2[0].contains("preflight.image.shape"), "{warnings2:?}");
    let p = &c.preflight;
    assert_eq!((p.mode, p.unprobeable, p.concurrency), (PreflightMode::Warn, Unprobeable::Refuse, 4));
    assert_eq!((p.video.max_secs, p.video.min_secs, p.image.max_side), (30.0, 2.0, 8000));
    assert_eq!(c.tls_options(path).ca_file.as_deref(), Some(Path::new("/etc/sa/corp-ca.pem")));

    for (bad, want) in [
        ("[preflight]\nmode = \"lenient\"\n", "unknown variant `lenient`"),
        ("[preflight]\nconcurrency = 0\n", "preflight.concurrency must be 1–256"),
        ("[preflight]\ntimeout_secs = 1e9\n", "preflight.timeout_secs"),
        ("[preflight]\nimage_budget_bytes = 10\n", "preflight.image_budget_bytes"),
        ("[preflight.video]\nmin_fps = 90.0\n", "preflight video fps"),
        ("[preflight.image]\nmin_aspect = 0.0\n", "aspect minimums must be above 0"),
    ] {
        let e = Config::parse(bad, path).unwrap_err().to_string();
        assert!(e.contains(want), "{bad}: {e}");
    }
}
