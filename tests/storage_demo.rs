//! `--demo` has a bucket: a local file goes up to the in-process
//! simulator's bucket and is created from its presigned URL, with no network.

mod storage_support;

use std::time::Duration;

use seedance_assets::api::{AssetStatus, CreateAssetRequest};
use seedance_assets::options::GlobalArgs;
use seedance_assets::setup::Setup;

#[tokio::test]
async fn demo_imports_a_local_file_through_its_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let global =
        GlobalArgs { config: None, data_dir: Some(dir.path().to_path_buf()), demo: true, mouse: false, profile: None };
    let setup = Setup::new(&global).await.unwrap();
    let storage = setup.storage().expect("the demo configures a bucket");
    let media = dir.path().join("storyboard-01.png");
    std::fs::write(&media, storage_support::png(320, 320, 5)).unwrap();
    let found = seedance_assets::local::expand(&media.to_string_lossy(), false);
    let file = storage.prepare(&found.files[0].path).await.unwrap();
    let up = storage.upload(&file, |_| {}).await.unwrap();
    assert!(up.url.as_str().contains("/demo-bucket/demo/sha256-"), "{}", up.url);

    let group = setup.loaded.config.default_preset().unwrap().group_id.clone();
    let req = CreateAssetRequest {
        group_id: group,
        url: up.url.to_string(),
        asset_type: found.files[0].asset_type,
        name: found.files[0].stem.clone(),
    };
    let created = setup.client.create_asset(&req).await.unwrap();
    let sim = setup.sim.as_ref().unwrap();
    assert_eq!(sim.bucket().stats().fetches[0].sha256.as_deref(), Some(file.sha256.as_str()));
    let mut status = AssetStatus::Processing;
    for _ in 0..200 {
        let info = setup.client.get_asset(&created.task_id).await.unwrap();
        status = info.status;
        if status != AssetStatus::Processing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The demo fails one asset in ten at random; the download itself worked.
    assert_ne!(status, AssetStatus::Processing);
}
