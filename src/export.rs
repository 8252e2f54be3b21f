//! Jobs as scripts and spreadsheets see them: one flat record per job, as
//! JSON or CSV. Shared by the CLI (`export`, `--json`) and the dashboard (`e`).

use std::io::Write;

use serde::Serialize;

use crate::engine::Job;

/// One job as scripts see it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct JobRecord {
    /// Job id.
    pub id: u64,
    /// Asset name.
    pub name: String,
    /// Image, Video or Audio.
    #[serde(rename = "type")]
    pub asset_type: String,
    /// Source URL.
    pub url: String,
    /// Group id.
    pub group_id: String,
    /// Job state (lower case).
    pub status: String,
    /// Asset id, once created.
    pub asset_id: Option<String>,
    /// `asset://ID`, once Active.
    pub asset_ref: Option<String>,
    /// Why it failed or what is uncertain.
    pub error: Option<String>,
    /// RFC 3339.
    pub submitted_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// The format preflight sniffed from the bytes.
    pub format: Option<String>,
    /// Width in pixels, as measured before creation.
    pub width: Option<u64>,
    /// Height in pixels, as measured.
    pub height: Option<u64>,
    /// Seconds, as measured.
    pub duration_secs: Option<f64>,
    /// Frames per second, as measured.
    pub fps: Option<f64>,
    /// Bytes, as measured.
    pub size_bytes: Option<u64>,
}

impl From<&Job> for JobRecord {
    fn from(j: &Job) -> Self {
        let media = j.spec.media.as_ref();
        JobRecord {
            id: j.id,
            name: j.spec.name.clone(),
            asset_type: j.spec.asset_type.to_string(),
            url: j.spec.url.clone(),
            group_id: j.spec.group_id.clone(),
            status: j.state.as_str().to_string(),
            asset_id: j.asset_id.clone(),
            asset_ref: j.asset_ref(),
            error: j.error.clone(),
            submitted_at: j.submitted_at.to_string(),
            updated_at: j.updated_at.to_string(),
            format: media.map(|m| m.format.to_string()),
            width: media.and_then(|m| m.width),
            height: media.and_then(|m| m.height),
            duration_secs: media.and_then(|m| m.duration_secs),
            fps: media.and_then(|m| m.fps),
            size_bytes: media.and_then(|m| m.size_bytes),
        }
    }
}

/// Writes jobs as a pretty JSON array (with a final newline) to `w`.
pub fn write_json(jobs: &[Job], mut w: impl Write) -> Result<(), String> {
    let records: Vec<JobRecord> = jobs.iter().map(JobRecord::from).collect();
    serde_json::to_writer_pretty(&mut w, &records).map_err(|e| e.to_string())?;
    writeln!(w).map_err(|e| e.to_string())
}

/// Writes jobs as CSV to `w`.
pub fn write_csv(jobs: &[Job], w: impl Write) -> Result<(), String> {
    let mut csv = csv::Writer::from_writer(w);
    for j in jobs {
        csv.serialize(JobRecord::from(j)).map_err(|e| e.to_string())?;
    }
    csv.flush().map_err(|e| e.to_string())
}
