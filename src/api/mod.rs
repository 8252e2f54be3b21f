//! A typed async client for the OctopusX Seedance asset API: CreateAssetGroup,
//! CreateAsset and GetAsset (Query Asset), and the optional library
//! endpoints (listing, rename, delete) a server may have. It knows nothing of jobs or screens.

mod client;
mod envelope;
mod error;
mod library;
mod tls;
mod types;

pub use client::{Client, ClientOptions, Probe, check_base_url, parse_retry_after, transport_detail};
pub use envelope::decode_response;
pub use error::{
    AccountLimit, ApiError, BaseUrlError, ClientError, Endpoint, LibraryError, endpoint_missing, is_missing_group,
    is_unknown_task, limit_named,
};
pub use library::{AssetQuery, ListedGroup, PAGE_MAX, Page};
pub use tls::{TlsError, TlsOptions, http_client_builder};
pub use types::{
    AssetInfo, AssetStatus, AssetType, CreateAssetRequest, CreateGroupRequest, CreatedAsset, CreatedGroup,
};
