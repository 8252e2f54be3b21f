//! The storage client against an independent S3-compatible server,
//! `moto_server` (PyPI `moto[server]`), started here on loopback. moto does
//! not check signatures (the simulator's bucket does: see storage_sim.rs).

mod storage_support;

use std::time::Duration;

use rusty_s3::S3Action;
use seedance_assets::storage::{Storage, sha256_hex};
use storage_support::*;

#[tokio::test]
async fn uploads_dedups_and_serves_through_moto() {
    let moto = Moto::start();
    let creds = credentials("testing", "testing");
    // Create the bucket (moto starts empty).
    let bucket =
        rusty_s3::Bucket::new(moto.endpoint.parse().unwrap(), rusty_s3::UrlStyle::Path, "refs", "us-east-1").unwrap();
    let rcreds = rusty_s3::Credentials::new("testing", "testing");
    let url = rusty_s3::actions::CreateBucket::new(&bucket, &rcreds).sign(Duration::from_secs(60));
    let resp = http().put(url).header("content-length", "0").send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());

    let storage = Storage::from_config(&storage_config(&moto.endpoint, "refs"), &creds, http()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = write_images(dir.path(), 6);
    let mut big = png(64, 64, 77);
    big.resize(3 << 20, 7);
    let big_path = dir.path().join("big.png");
    std::fs::write(&big_path, &big).unwrap();

    for path in paths.iter().chain([&big_path]) {
        let bytes = std::fs::read(path).unwrap();
        let file = storage.prepare(path).await.unwrap();
        assert_eq!(file.sha256, sha256_hex(&bytes));
        assert_eq!(storage.head(&file.key).await.unwrap(), None);
        let up = storage.upload(&file, |_| {}).await.unwrap();
        assert!(!up.already_present, "{}", path.display());
        assert_eq!(storage.head(&file.key).await.unwrap(), Some(bytes.len() as u64));
        let again = storage.upload(&file, |_| {}).await.unwrap();
        assert!(again.already_present);
        let got = http().get(up.url).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.bytes().await.unwrap(), bytes, "{}", path.display());
    }

    // `check`'s probe: written, found and deleted; nothing left behind.
    let key = storage.probe().await.unwrap();
    assert!(key.starts_with("refs/.seedance-assets-check-"), "{key}");
    assert_eq!(storage.head(&key).await.unwrap(), None, "the probe object is deleted");

    // A bucket that does not exist: moto's own error, classified.
    let missing = Storage::from_config(&storage_config(&moto.endpoint, "nope"), &creds, http()).unwrap();
    let e = missing.probe().await.unwrap_err();
    assert!(e.to_string().contains("NoSuchBucket"), "the probe says so too: {e}");
    let file = missing.prepare(&paths[0]).await.unwrap();
    let e = missing.upload(&file, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("NoSuchBucket"), "{e}");
    assert_eq!(e.class(), seedance_assets::storage::ErrorClass::Batch);
}
