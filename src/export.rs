//! Jobs as scripts and spreadsheets see them: one flat record per job, as
//! JSON or CSV, or as the `content` entries of a video request. Shared by the
//! CLI (`export`, `--json`) and the dashboard (`e`).

use std::io::Write;

use serde::Serialize;

use crate::api::AssetType;
use crate::job::Job;
use crate::store::Unreadable;

/// Why jobs could not be written out.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// JSON serialization failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// CSV serialization failed.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

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
    /// Job state (lower case), or `unknown` for a row of the job store that
    /// cannot be read.
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
    /// The config profile (account) it belongs to.
    #[serde(default)]
    pub profile: String,
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
    /// SHA-256 of a local file's content (hex), as uploaded.
    pub sha256: Option<String>,
    /// A local file's object key in the bucket (`PREFIX/sha256-HEX.EXT`).
    pub object_key: Option<String>,
    /// The original file or URL a conformed asset was made from.
    #[serde(default)]
    pub conformed_from: Option<String>,
    /// The original, measured (`mp4/mov 3840×2160, 45.0 s, 30 fps (hevc+aac), 80.0 MB`).
    #[serde(default)]
    pub original_media: Option<String>,
    /// What conforming did, step by step.
    #[serde(default)]
    pub conform_recipe: Option<String>,
    /// Which part of a split original (`2/3`).
    #[serde(default)]
    pub part: Option<String>,
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
            profile: j.spec.profile.clone(),
            format: media.map(|m| m.format.to_string()),
            width: media.and_then(|m| m.width),
            height: media.and_then(|m| m.height),
            duration_secs: media.and_then(|m| m.duration_secs),
            fps: media.and_then(|m| m.fps),
            size_bytes: media.and_then(|m| m.size_bytes),
            sha256: j.spec.local.as_ref().map(|l| l.sha256.clone()),
            object_key: j.spec.local.as_ref().map(|l| l.key.clone()),
            conformed_from: j.spec.conform.as_ref().map(|c| c.original.clone()),
            original_media: j.spec.conform.as_ref().map(|c| c.original_media.clone()),
            conform_recipe: j.spec.conform.as_ref().map(|c| c.recipe.clone()),
            part: j.spec.conform.as_ref().map(|c| format!("{}/{}", c.part.0, c.part.1)),
        }
    }
}

impl From<&Unreadable> for JobRecord {
    /// A row of the job store that cannot be read as a job: state `unknown`,
    /// with the fields that could be read and why the rest could not.
    fn from(u: &Unreadable) -> Self {
        let error = match &u.error {
            Some(e) => format!("cannot read this job from the job store ({}); its last error: {e}", u.reason),
            None => format!("cannot read this job from the job store ({})", u.reason),
        };
        let time = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        JobRecord {
            id: u.id,
            name: u.name.clone().unwrap_or_default(),
            asset_type: u.asset_type.clone().unwrap_or_default(),
            url: u.url.clone().unwrap_or_default(),
            group_id: u.group_id.clone().unwrap_or_default(),
            status: UNKNOWN.to_string(),
            asset_id: u.asset_id.clone(),
            asset_ref: None,
            error: Some(error),
            submitted_at: time(u.submitted_at),
            updated_at: time(u.updated_at),
            profile: u.profile.clone().unwrap_or_default(),
            format: None,
            width: None,
            height: None,
            duration_secs: None,
            fps: None,
            size_bytes: None,
            sha256: None,
            object_key: None,
            conformed_from: None,
            original_media: None,
            conform_recipe: None,
            part: None,
        }
    }
}

/// The state shown for a row of the job store that cannot be read.
pub const UNKNOWN: &str = "unknown";

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A pretty JSON array of [`JobRecord`]s.
    Json,
    /// CSV of [`JobRecord`]s, formula cells neutralized.
    Csv,
    /// The `content` entries of the Active jobs (a pretty JSON array).
    Content,
}

/// Writes jobs one at a time (a history of any size costs one job of
/// memory), in one format.
pub struct Exporter<W: Write> {
    sink: Sink<W>,
    written: usize,
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json(W, Format),
}

/// `value` as pretty JSON, each line indented as an element of an array.
fn array_element(value: &impl Serialize) -> Result<String, ExportError> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"))
}

impl<W: Write> Exporter<W> {
    /// An exporter writing `format` to `w`.
    pub fn new(format: Format, w: W) -> Exporter<W> {
        let sink = match format {
            Format::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(w))),
            other => Sink::Json(w, other),
        };
        Exporter { sink, written: 0 }
    }

    /// Writes one job (a `content` export skips jobs that are not Active).
    pub fn push(&mut self, j: &Job) -> Result<(), ExportError> {
        match &self.sink {
            Sink::Json(_, Format::Content) => match ContentEntry::of(j) {
                Some(e) => self.push_element(&e),
                None => Ok(()),
            },
            _ => self.push_record(JobRecord::from(j)),
        }
    }

    /// Writes a row of the job store that cannot be read as a job, as state
    /// `unknown` (a `content` export skips it: it is not known Active).
    fn push_unreadable(&mut self, u: &Unreadable) -> Result<(), ExportError> {
        match &self.sink {
            Sink::Json(_, Format::Content) => Ok(()),
            _ => self.push_record(JobRecord::from(u)),
        }
    }

    /// Writes a row, or what could be read of it ([`crate::store::History::for_each`]).
    pub fn push_row(&mut self, row: &Result<Job, Box<Unreadable>>) -> Result<(), ExportError> {
        match row {
            Ok(j) => self.push(j),
            Err(u) => self.push_unreadable(u),
        }
    }

    fn push_record(&mut self, mut r: JobRecord) -> Result<(), ExportError> {
        match &mut self.sink {
            Sink::Csv(csv) => {
                for cell in [&mut r.name, &mut r.url, &mut r.group_id, &mut r.profile] {
                    neutralize(cell);
                }
                for cell in [&mut r.asset_id, &mut r.asset_ref, &mut r.error].into_iter().flatten() {
                    neutralize(cell);
                }
                csv.serialize(r)?;
                self.written += 1;
                Ok(())
            }
            Sink::Json(..) => self.push_element(&r),
        }
    }

    /// Writes one element of a JSON array.
    fn push_element(&mut self, value: &impl Serialize) -> Result<(), ExportError> {
        let element = array_element(value)?;
        if let Sink::Json(w, _) = &mut self.sink {
            let sep = if self.written == 0 { "[\n" } else { ",\n" };
            w.write_all(sep.as_bytes())?;
            w.write_all(element.as_bytes())?;
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the export; returns how many jobs were written.
    pub fn finish(self) -> Result<usize, ExportError> {
        match self.sink {
            Sink::Csv(mut csv) => csv.flush()?,
            Sink::Json(mut w, _) => {
                w.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
                w.flush()?;
            }
        }
        Ok(self.written)
    }
}

/// Writes `jobs` in `format` to `w`; returns how many were written.
pub fn write(format: Format, jobs: &[Job], w: impl Write) -> Result<usize, ExportError> {
    let mut ex = Exporter::new(format, w);
    for j in jobs {
        ex.push(j)?;
    }
    ex.finish()
}

/// Writes jobs as a pretty JSON array (with a final newline) to `w`.
pub fn write_json(jobs: &[Job], w: impl Write) -> Result<(), ExportError> {
    write(Format::Json, jobs, w).map(drop)
}

/// Writes jobs as CSV to `w`. Text cells that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, TAB or CR) are prefixed with
/// `'`, as OWASP recommends: names, URLs and server-sent ids and errors are
/// untrusted.
pub fn write_csv(jobs: &[Job], w: impl Write) -> Result<(), ExportError> {
    write(Format::Csv, jobs, w).map(drop)
}

/// Prefixes a cell that a spreadsheet would take for a formula with `'`.
pub fn neutralize(cell: &mut String) {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.insert(0, '\'');
    }
}

/// A `{"url": …}` object of a content entry.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ContentUrl {
    /// `asset://ID`.
    pub url: String,
}

/// One entry of a Seedance 2 video request's `content` array that refers
/// to an asset: `{"type":"image_url","image_url":{"url":"asset://ID"},"role":"reference_image"}`
/// (and `video_url`/`reference_video`, `audio_url`/`reference_audio`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ContentEntry {
    /// `image_url`, `video_url` or `audio_url`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<ContentUrl>,
    /// For videos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<ContentUrl>,
    /// For audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_url: Option<ContentUrl>,
    /// `reference_image`, `reference_video` or `reference_audio`.
    pub role: String,
}

impl ContentEntry {
    /// The entry for an Active job; `None` for any other.
    pub fn of(j: &Job) -> Option<ContentEntry> {
        let url = Some(ContentUrl { url: j.asset_ref()? });
        let (kind, role) = match j.spec.asset_type {
            AssetType::Image => ("image_url", "reference_image"),
            AssetType::Video => ("video_url", "reference_video"),
            AssetType::Audio => ("audio_url", "reference_audio"),
        };
        let mut e =
            ContentEntry { kind: kind.into(), image_url: None, video_url: None, audio_url: None, role: role.into() };
        match j.spec.asset_type {
            AssetType::Image => e.image_url = url,
            AssetType::Video => e.video_url = url,
            AssetType::Audio => e.audio_url = url,
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralized() {
        for (raw, want) in [
            ("=1+1", "'=1+1"),
            ("+x", "'+x"),
            ("-2", "'-2"),
            ("@SUM", "'@SUM"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("cat", "cat"),
            ("", ""),
        ] {
            let mut cell = raw.to_string();
            neutralize(&mut cell);
            assert_eq!(cell, want);
        }
    }

    fn job(id: u64, state: crate::job::JobState) -> Job {
        let spec = crate::job::NewJob {
            url: format!("https://e.com/{id}.png"),
            name: format!("=n{id}"),
            asset_type: AssetType::Image,
            group_id: "g".into(),
            profile: "default".into(),
            local: None,
            media: None,
            conform: None,
        };
        let mut j = Job::new(id, spec, jiff::Timestamp::UNIX_EPOCH);
        j.state = state;
        j.asset_id = Some(format!("asset-{id}"));
        j
    }

    #[test]
    fn streamed_json_is_what_serde_writes_for_the_whole_array() {
        use crate::job::JobState::{Active, Failed};
        for jobs in [vec![], vec![job(1, Active)], vec![job(1, Active), job(2, Failed), job(3, Active)]] {
            let mut streamed = Vec::new();
            assert_eq!(write(Format::Json, &jobs, &mut streamed).unwrap(), jobs.len());
            let records: Vec<JobRecord> = jobs.iter().map(JobRecord::from).collect();
            let whole = serde_json::to_string_pretty(&records).unwrap() + "\n";
            assert_eq!(String::from_utf8(streamed).unwrap(), whole);
            let mut content = Vec::new();
            let n = write(Format::Content, &jobs, &mut content).unwrap();
            let entries: Vec<ContentEntry> = jobs.iter().filter_map(ContentEntry::of).collect();
            assert_eq!(n, entries.len(), "only Active jobs are content");
            assert_eq!(String::from_utf8(content).unwrap(), serde_json::to_string_pretty(&entries).unwrap() + "\n");
        }
        let mut csv = Vec::new();
        write(Format::Csv, &[job(1, Active)], &mut csv).unwrap();
        assert!(String::from_utf8(csv).unwrap().contains(",'=n1,"), "formulas neutralized");
    }
}
