//! Exports that are safe to open: video-request `content`, neutralised CSV
//! formula cells, FIFOs and symlinks refused, atomic files; and a closed
//! stdout that ends quietly.

mod clienv;

use std::process::Stdio;

use clienv::{Env, blocking, text};
use seedance_assets::export::{ContentEntry, JobRecord};
use seedance_assets::sim::Sim;

mod common;

async fn imported() -> (Sim, Env) {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("exports");
    let env = Env::new(&sim);
    let input = "https://cdn.example/a/cat.png,=HYPERLINK(\"http://evil\"),Image\n\
                 https://cdn.example/b/clip.mp4,+clip,Video\n\
                 https://cdn.example/c/theme.mp3,@theme,Audio\n\
                 https://cdn.example/d/broken-fail.png,-broken,Image\n";
    let env = blocking(move || {
        let out = env.run(&["import", "--group", &group, "--wait"], input);
        assert_eq!(out.status.code(), Some(1), "one fails: {}", text(&out.stderr));
        env
    })
    .await;
    (sim, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_csv_and_refused_targets() {
    let (_sim, env) = imported().await;
    let env = blocking(move || {
        // --format content: one entry per Active asset, parsed back.
        let out = env.run(&["export", "--format", "content"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let entries: Vec<ContentEntry> = serde_json::from_slice(&out.stdout).unwrap();
        let json: Vec<JobRecord> = serde_json::from_slice(&env.run(&["status", "--json"], "").stdout).unwrap();
        let refs = |t: &str| {
            json.iter().find(|j| j.asset_type == t && j.status == "active").unwrap().asset_ref.clone().unwrap()
        };
        assert_eq!(entries.len(), 3, "the failed one has no entry");
        let got: Vec<(&str, &str, String)> = entries
            .iter()
            .map(|e| {
                let url = e.image_url.as_ref().or(e.video_url.as_ref()).or(e.audio_url.as_ref()).unwrap().url.clone();
                (e.kind.as_str(), e.role.as_str(), url)
            })
            .collect();
        assert!(got.contains(&("image_url", "reference_image", refs("Image"))), "{got:?}");
        assert!(got.contains(&("video_url", "reference_video", refs("Video"))), "{got:?}");
        assert!(got.contains(&("audio_url", "reference_audio", refs("Audio"))), "{got:?}");
        let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(raw[0].as_object().unwrap().len(), 3, "type, one *_url, role: {raw}");

        // CSV: cells a spreadsheet would run are prefixed with '.
        let csv = text(&env.run(&["export", "--format", "csv"], "").stdout);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        // (Job ids follow the order preflight verdicts arrive in, not the input's.)
        let mut names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_string()).collect();
        names.sort();
        assert_eq!(names, ["'+clip", "'-broken", "'=HYPERLINK(\"http://evil\")", "'@theme"]);
        env
    })
    .await;

    let dir = env.dir.path().to_path_buf();
    blocking(move || {
        // A FIFO and a symlink are refused, and left as they were.
        let fifo = dir.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let out = env.run(&["export", "-o", fifo.to_str().unwrap()], "");
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("is a FIFO"), "{}", text(&out.stderr));
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo_like());

        let target = dir.join("target.csv");
        std::fs::write(&target, "precious\n").unwrap();
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = env.run(&["export", "-o", link.to_str().unwrap()], "");
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("symbolic link"), "{}", text(&out.stderr));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        let out = env.run(&["export", "-o", link.to_str().unwrap(), "--force"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(std::fs::read_to_string(&target).unwrap().starts_with("id,name"), "--force writes through");

        // A regular file is replaced whole, and no temporary file is left.
        let file = dir.join("out.json");
        std::fs::write(&file, "old").unwrap();
        let out = env.run(&["export", "--format", "json", "-o", file.to_str().unwrap()], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let back: Vec<JobRecord> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(back.len(), 4);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    })
    .await;
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_quietly_with_success() {
    let (_sim, env) = imported().await;
    blocking(move || {
        for args in [&["status", "--json"][..], &["status"], &["export"], &["export", "--format", "content"]] {
            // The reading end is closed before the command starts: its first write fails with EPIPE.
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            let out = env.command(args).stdout(Stdio::from(writer)).output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
            assert!(
                !stderr.to_lowercase().contains("broken pipe") && !stderr.contains("panicked"),
                "{args:?}: {stderr}"
            );
        }
    })
    .await;
}
