//! Request and response bodies, exactly as SPEC.md names their fields.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// The kind of media an asset holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssetType {
    /// jpeg, png, webp, bmp, tiff, gif, heic/heif
    Image,
    /// mp4, mov
    Video,
    /// mp3, wav
    Audio,
}

impl AssetType {
    /// All types, in the order the dashboard cycles through them.
    pub const ALL: [AssetType; 3] = [AssetType::Image, AssetType::Video, AssetType::Audio];

    /// The type implied by a file extension (case-insensitive), per SPEC.md's formats.
    pub fn from_extension(ext: &str) -> Option<AssetType> {
        match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" | "png" | "webp" | "bmp" | "tif" | "tiff" | "gif" | "heic" | "heif" => {
                Some(AssetType::Image)
            }
            "mp4" | "mov" => Some(AssetType::Video),
            "mp3" | "wav" => Some(AssetType::Audio),
            _ => None,
        }
    }

    /// The next type in [`AssetType::ALL`], wrapping.
    pub fn next(self) -> AssetType {
        match self {
            AssetType::Image => AssetType::Video,
            AssetType::Video => AssetType::Audio,
            AssetType::Audio => AssetType::Image,
        }
    }
}

impl fmt::Display for AssetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AssetType::Image => "Image",
            AssetType::Video => "Video",
            AssetType::Audio => "Audio",
        })
    }
}

impl FromStr for AssetType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "image" => Ok(AssetType::Image),
            "video" => Ok(AssetType::Video),
            "audio" => Ok(AssetType::Audio),
            other => Err(format!(
                "unknown asset type `{}` (expected Image, Video or Audio)",
                crate::text::excerpt(other, 40)
            )),
        }
    }
}

/// Body of CreateAssetGroup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateGroupRequest {
    /// At most 64 characters.
    #[serde(rename = "Name")]
    pub name: String,
    /// At most 300 characters.
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
}

/// `data` of a CreateAssetGroup response.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CreatedGroup {
    /// The group id, passed as `GroupId` to CreateAsset.
    #[serde(rename = "Id")]
    pub id: String,
}

/// Body of CreateAsset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateAssetRequest {
    /// The group to create the asset in.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// A public HTTPS URL the server downloads.
    #[serde(rename = "URL")]
    pub url: String,
    /// Image, Video or Audio.
    #[serde(rename = "AssetType")]
    pub asset_type: AssetType,
    /// The asset's name.
    #[serde(rename = "Name")]
    pub name: String,
}

/// `data` of a CreateAsset response.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CreatedAsset {
    /// The asset id, usable as `asset://{id}`.
    #[serde(rename = "Id")]
    pub id: String,
    /// The import task id, passed to GetAsset.
    pub task_id: String,
}

/// The processing status of an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetStatus {
    /// Not yet usable.
    Processing,
    /// Ready for video generation.
    Active,
    /// Processing failed; see the asset's error.
    Failed,
    /// A value the documentation does not name: not final, shown as is.
    Other(String),
}

impl AssetStatus {
    /// The status as the server spells it.
    pub fn as_str(&self) -> &str {
        match self {
            AssetStatus::Processing => "Processing",
            AssetStatus::Active => "Active",
            AssetStatus::Failed => "Failed",
            AssetStatus::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for AssetStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Processing" => AssetStatus::Processing,
            "Active" => AssetStatus::Active,
            "Failed" => AssetStatus::Failed,
            _ => AssetStatus::Other(crate::text::excerpt(&s, 40)),
        })
    }
}

/// `data` of a GetAsset response. Every field but `Status` may be missing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AssetInfo {
    /// The asset id.
    #[serde(rename = "Id", default)]
    pub id: Option<String>,
    /// The asset's name.
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    /// The processed asset's URL.
    #[serde(rename = "URL", default)]
    pub url: Option<String>,
    /// The asset type as the server spells it.
    #[serde(rename = "AssetType", default)]
    pub asset_type: Option<String>,
    /// The group id.
    #[serde(rename = "GroupId", default)]
    pub group_id: Option<String>,
    /// Processing, Active, Failed or something else.
    #[serde(rename = "Status")]
    pub status: AssetStatus,
    /// RFC 3339 creation time.
    #[serde(rename = "CreateTime", default)]
    pub create_time: Option<String>,
    /// RFC 3339 time of the last change.
    #[serde(rename = "UpdateTime", default)]
    pub update_time: Option<String>,
    /// Why processing failed, as `Code: Message` when the server sent an object.
    #[serde(rename = "Error", default, deserialize_with = "error_text")]
    pub error: Option<String>,
}

/// Accepts `Error` as null, a string, or the upstream `{Code, Message}` object.
fn error_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| super::envelope::describe_error(&v)))
}
