//! The one error type of the API client.

use std::fmt;
use std::time::Duration;

/// Which endpoint a call went to; named in decode errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1/seedance/asset/CreateAssetGroup`
    CreateAssetGroup,
    /// `POST /v1/seedance/asset/CreateAsset`
    CreateAsset,
    /// `POST /v1/seedance/asset/GetAsset`
    GetAsset,
    /// `ListAssets`: optional, free, paged.
    ListAssets,
    /// `ListAssetGroups`: optional, free, paged.
    ListAssetGroups,
    /// `UpdateAsset` (rename): optional.
    UpdateAsset,
    /// `DeleteAsset`: optional.
    DeleteAsset,
    /// `DeleteAssetGroup`: optional.
    DeleteAssetGroup,
}

impl Endpoint {
    /// The endpoints a server may lack (SPEC.md: "probe; never assume").
    pub const OPTIONAL: [Endpoint; 5] = [
        Endpoint::ListAssets,
        Endpoint::ListAssetGroups,
        Endpoint::UpdateAsset,
        Endpoint::DeleteAsset,
        Endpoint::DeleteAssetGroup,
    ];

    /// The action's name, as the path ends and as logs name it.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::CreateAssetGroup => "CreateAssetGroup",
            Endpoint::CreateAsset => "CreateAsset",
            Endpoint::GetAsset => "GetAsset",
            Endpoint::ListAssets => "ListAssets",
            Endpoint::ListAssetGroups => "ListAssetGroups",
            Endpoint::UpdateAsset => "UpdateAsset",
            Endpoint::DeleteAsset => "DeleteAsset",
            Endpoint::DeleteAssetGroup => "DeleteAssetGroup",
        }
    }

    /// The path of the endpoint below the base URL.
    pub fn path(self) -> String {
        format!("v1/seedance/asset/{}", self.name())
    }

    /// The endpoint named `name` (as [`Endpoint::name`] spells it, any case).
    pub fn named(name: &str) -> Option<Endpoint> {
        [Endpoint::CreateAssetGroup, Endpoint::CreateAsset, Endpoint::GetAsset]
            .into_iter()
            .chain(Endpoint::OPTIONAL)
            .find(|e| e.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call to an optional endpoint failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LibraryError {
    /// The server does not have the endpoint (it said the path or action is unknown).
    #[error("the server has no {endpoint} ({answer})")]
    Absent {
        /// The endpoint.
        endpoint: Endpoint,
        /// What the server answered.
        answer: String,
    },
    /// Any other failure.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// True when a refusal says the endpoint itself is missing, not the thing
/// asked about: HTTP 405 or 501, an answer naming an unknown path or
/// action, or a bare 404 (one whose code names no missing resource such
/// as `NotFound.Id`).
pub fn endpoint_missing(status: u16, code: &str, message: &str) -> bool {
    if matches!(status, 405 | 501) {
        return true;
    }
    let text = format!("{code} {message}").to_lowercase();
    const SAYS: [&str; 10] = [
        "unknown action",
        "invalidaction",
        "invalid action",
        "unsupported action",
        "no such action",
        "action not found",
        "unknown path",
        "path not found",
        "no route",
        "not implemented",
    ];
    if SAYS.iter().any(|p| text.contains(p)) {
        return true;
    }
    let code = code.to_lowercase();
    status == 404 && !code.contains('.') && !message.to_lowercase().contains("asset")
}

/// Every way a call can fail, shaped for the decision the caller must make:
/// may it be retried, and could the request have reached the server?
///
/// Messages are sanitized excerpts of what the server said; the API key is
/// never part of an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The key was refused (HTTP 401/403 or an `AccessDenied` code).
    #[error("the API key was refused: {message}")]
    Unauthorized {
        /// What the server said.
        message: String,
    },
    /// HTTP 429; the request was not processed.
    #[error("rate limited by the server{}", retry_after.map(|d| format!(" (retry after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// An account limit other than the request rate refused the request: too
    /// many creations processing at once, or the asset quota is full. The
    /// request was not processed.
    #[error("refused by the account's {limit}: {message}")]
    LimitReached {
        /// Which limit.
        limit: AccountLimit,
        /// The server's code and explanation, as it gave them.
        message: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The server refused the input (HTTP 4xx or a business error code).
    #[error("rejected: {}", code_and(code, message))]
    Rejected {
        /// The error code (`InvalidParameter.X`, `NotFound.group_id`, `HTTP 400`, …).
        code: String,
        /// The server's explanation.
        message: String,
        /// The answer contradicts itself (`state: 1` with a non-null
        /// `error`): the request may have been processed all the same.
        maybe_processed: bool,
    },
    /// HTTP 5xx.
    #[error("server error: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Server {
        /// The HTTP status.
        status: u16,
        /// What the server said, if anything.
        message: String,
    },
    /// The exchange failed on the wire.
    #[error("network error ({}): {detail}", if *may_have_reached_server { "the request may have reached the server" } else { "the request never reached the server" })]
    Network {
        /// False only when the request surely was not sent (connect failure).
        may_have_reached_server: bool,
        /// What went wrong.
        detail: String,
    },
    /// The response was not JSON or not of the documented shape.
    #[error("could not decode the {endpoint} response: {excerpt}")]
    Decode {
        /// The endpoint called.
        endpoint: Endpoint,
        /// A short sanitized excerpt of the body, with the reason.
        excerpt: String,
    },
}

/// `code: message`, or the message alone when it already starts with the code.
fn code_and(code: &str, message: &str) -> String {
    if message.starts_with(code) { message.to_string() } else { format!("{code}: {message}") }
}

impl ApiError {
    /// True when the server surely did not act on the request, so that even a
    /// non-idempotent call (CreateAsset) may be sent again: a connect failure
    /// (nothing was sent) or a 429. A 5xx is not enough: nothing in the API's
    /// documentation says a 5xx means "not processed".
    pub fn surely_not_processed(&self) -> bool {
        match self {
            ApiError::RateLimited { .. } | ApiError::LimitReached { .. } => true,
            ApiError::Network { may_have_reached_server, .. } => !may_have_reached_server,
            _ => false,
        }
    }

    /// True when the request never left this machine because the server
    /// could not be reached (connection refused, DNS failure, connect timeout).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Network { may_have_reached_server: false, .. })
    }

    /// True when an idempotent call (GetAsset) is worth repeating.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. }
                | ApiError::LimitReached { .. }
                | ApiError::Server { .. }
                | ApiError::Network { .. }
                | ApiError::Decode { .. }
        )
    }

    /// The server's requested wait before the next call, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } | ApiError::LimitReached { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error code when the server rejected the input.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// It does not parse as a URL.
    #[error("base URL `{raw}` is not a URL: {source}")]
    NotUrl {
        /// The URL as given.
        raw: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "base URL `{raw}` uses plain http to a host that is not loopback; use https:// (the API key would travel in clear text)"
    )]
    PlainHttp {
        /// The URL as given.
        raw: String,
    },
    /// A scheme other than http(s).
    #[error("base URL `{raw}` has scheme `{scheme}`; expected https://")]
    Scheme {
        /// The URL as given.
        raw: String,
        /// Its scheme.
        scheme: String,
    },
}

/// Why an API client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not usable.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// The key cannot be an HTTP header value.
    #[error("the API key contains characters that cannot be sent in a header")]
    KeyNotAHeader,
    /// The TLS roots could not be loaded.
    #[error(transparent)]
    Tls(#[from] super::TlsError),
    /// reqwest refused the settings.
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// An account limit other than the request rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLimit {
    /// Creation tasks processing at once (the upstream documents 30).
    Processing,
    /// Assets the account may hold.
    Quota,
}

impl fmt::Display for AccountLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountLimit::Processing => "limit on creations processing at once",
            AccountLimit::Quota => "asset quota",
        })
    }
}

/// Which limit, if any, a refusal names, however the server words it
/// (code or message, English or Chinese): `None` for an ordinary refusal,
/// `Some(None)` for the request rate, `Some(Some(limit))` for another
/// account limit.
///
/// Built to err toward "not a limit" (the answer is then handled as any
/// other refusal): a refusal about the input (sizes, durations, lengths,
/// formats), a timeout, a permission or a bill is never a limit, whatever
/// else it says; URLs and file names in the message are not read; and a
/// message that only says "exceeds the maximum" names no limit unless its
/// code does (`RequestLimitExceeded`, `Throttling`, `QuotaExceeded` …).
pub fn limit_named(code: &str, message: &str) -> Option<Option<AccountLimit>> {
    let code_sq = squeezed(code);
    const AUTH_CODES: [&str; 3] = ["accessdenied", "unauthorized", "invalidapikey"];
    if AUTH_CODES.iter().any(|c| code_sq.starts_with(c)) {
        return None;
    }
    const LIMIT_CODES: [&str; 8] =
        ["limit", "quota", "throttl", "toomany", "concurren", "flowcontrol", "ratelimit", "overload"];
    let code_says = LIMIT_CODES.iter().any(|c| code_sq.contains(c));
    const INPUT_CODES: [&str; 6] = ["invalid", "notfound", "missing", "unsupported", "malformed", "parameter"];
    if !code_says && INPUT_CODES.iter().any(|c| code_sq.starts_with(c)) {
        return None;
    }
    let text = format!("{} {}", code.to_lowercase(), readable(message));
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let word = |w: &str| words.contains(&w);
    let prefix = |p: &str| words.iter().any(|w| w.starts_with(p));
    let phrase = |p: &str| text.contains(p);
    let cjk = |c: &[&str]| c.iter().any(|w| text.contains(w));
    // Never a limit: the input, a timeout, a permission, a bill.
    let unit = |w: &&str| {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &w[digits.len()..];
        (!digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && ["mb", "kb", "gb", "s", "px", "ms", "fps"].contains(&unit))
            || w.split_once('x').is_some_and(|(a, b)| {
                !a.is_empty() && !b.is_empty() && (a.chars().chain(b.chars())).all(|c| c.is_ascii_digit())
            })
    };
    const INPUT_WORDS: [&str; 18] = [
        "size",
        "sizes",
        "byte",
        "bytes",
        "mb",
        "kb",
        "gb",
        "duration",
        "resolution",
        "pixel",
        "pixels",
        "width",
        "height",
        "fps",
        "aspect",
        "length",
        "format",
        "codec",
    ];
    let input = INPUT_WORDS.iter().any(|w| word(w))
        || prefix("dimension")
        || prefix("character")
        || words.iter().any(unit)
        || cjk(&["大小", "时长", "分辨率", "像素", "格式", "尺寸", "字符", "长度", "宽", "高度"])
        || (text.contains('秒') && !cjk(&["每秒"]));
    let timeout = prefix("timeout") || word("timed") || word("deadline") || phrase("execution time") || cjk(&["超时"]);
    let denied = prefix("permission")
        || prefix("unauthori")
        || phrase("access denied")
        || ["spending", "billing", "balance", "payment", "arrears", "overdue"].iter().any(|w| word(w))
        || cjk(&["权限", "余额", "欠费", "账单", "未授权"]);
    if input || timeout || denied {
        return None;
    }
    let says_limit = code_says
        || ["limit", "limits", "limited", "quota", "maximum", "max"].iter().any(|w| word(w))
        || prefix("exceed")
        || prefix("throttl")
        || phrase("too many")
        || phrase("too frequent")
        || phrase("at most")
        || phrase("no more than")
        || cjk(&["限制", "限流", "超限", "上限", "超过", "超出", "太多", "频繁", "配额", "最多", "并发"]);
    if !says_limit {
        return None;
    }
    let processing = prefix("concurren")
        || prefix("simultaneous")
        || phrase("at once")
        || phrase("at the same time")
        || phrase("in parallel")
        || phrase("in progress")
        || phrase("running task")
        || cjk(&["同时", "并发", "处理中", "进行中"]);
    let assets = prefix("asset") || cjk(&["资产", "素材"]);
    let rate = ["rate", "qps", "rps", "frequency"].iter().any(|w| word(w))
        || prefix("ratelimit")
        || prefix("throttl")
        || phrase("per second")
        || phrase("per minute")
        || phrase("too frequent")
        || phrase("too many requests")
        || cjk(&["频率", "频繁", "限流", "每秒", "每分钟"]);
    Some(if processing {
        Some(AccountLimit::Processing)
    } else if assets && !rate {
        Some(AccountLimit::Quota)
    } else if rate || code_says {
        None
    } else {
        // "Exceeds the maximum" of something unnamed: not a limit.
        return None;
    })
}

/// A refusal's text as [`limit_named`] reads it: lower case, without URLs
/// and file names (a host or an asset's name may contain any word).
fn readable(text: &str) -> String {
    let is_name = |chunk: &str| {
        let chunk = chunk.trim_end_matches(|c: char| c.is_ascii_punctuation());
        chunk.contains("://")
            || chunk.starts_with("www.")
            || chunk.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && (2..=4).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
            })
    };
    text.split_whitespace().filter(|c| !is_name(c)).collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Whether an error code (or a message carrying it) says the group does not
/// exist, however the server spells it: `NotFound.group_id`,
/// `NotFound.GroupId`, `notfound.groupID` …
pub fn is_missing_group(text: &str) -> bool {
    squeezed(text).contains("notfoundgroupid")
}

/// Whether an error code says the task (or asset) asked about does not
/// exist — what a valid key gets for a task that cannot exist — as opposed
/// to a path that does not exist (`HTTP 404`, a bare `NotFound`).
pub fn is_unknown_task(code: &str) -> bool {
    let code = squeezed(code);
    code.starts_with("notfound") && (code.contains("task") || code.contains("asset"))
}

/// An error code as servers' spellings agree on it: letters and digits
/// only, lower case (`NotFound.GroupId`, `notfound.group_id` → `notfoundgroupid`).
fn squeezed(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_recognised_in_every_wording_and_input_errors_are_not() {
        use AccountLimit::{Processing, Quota};
        for (code, message, want) in [
            ("RequestLimitExceeded", "Request limit exceeded.", None),
            ("Throttling.User", "Request was denied due to user flow control.", None),
            ("429", "rate limit exceeded", None),
            ("TooManyRequests", "", None),
            ("QuotaExceeded", "", None),
            ("HTTP 429", "quota of 600 requests per minute exceeded", None),
            ("OperationDenied", "同时处理中的创建任务不超过 30 个", Some(Processing)),
            ("OperationDenied", "[BytePlus ModelArk] 同时处理中的创建任务不超过 30 个", Some(Processing)),
            ("QuotaExceeded.ConcurrentTasks", "", Some(Processing)),
            ("InvalidRequest.ConcurrencyLimit", "", Some(Processing)),
            ("HTTP 400", "too many concurrent creation tasks: at most 30 may be processing", Some(Processing)),
            (
                "HTTP 400",
                "too many concurrent tasks, see https://docs.byteplus.com/limits for asset frame_001.png",
                Some(Processing),
            ),
            ("LimitExceeded", "at most 30 creation tasks may be processing at once", Some(Processing)),
            ("HTTP 400", "limit reached: 30 tasks in progress; for more information see the docs", Some(Processing)),
            ("QuotaExceeded.AssetCount", "the account holds 10000 assets", Some(Quota)),
            ("Forbidden", "asset quota exceeded", Some(Quota)),
            ("HTTP 400", "asset quota exceeded; migrate to a larger plan", Some(Quota)),
            ("HTTP 400", "asset quota exceeded; new asset processing is disabled", Some(Quota)),
            ("state 0", "资产数量已达上限", Some(Quota)),
            ("HTTP 400", "rate limit exceeded while processing", None),
        ] {
            assert_eq!(limit_named(code, message), Some(want), "{code}: {message}");
        }
        for (code, message) in [
            ("InvalidParameter.ImageSize", "the image exceeds the limit of 30 MB"),
            ("InvalidParameter.Duration", "too many seconds"),
            ("HTTP 400", "video duration exceeds the maximum of 15 s"),
            ("HTTP 400", "文件大小超过 30MB"),
            ("BadRequest", "file exceeds 30MB"),
            ("HTTP 400", "image dimensions exceed 6000x6000"),
            ("ParameterError", "name exceeds the maximum length of 64 characters"),
            ("HTTP 400", "视频超过15秒"),
            ("HTTP 400", "exceeds the maximum"),
            ("HTTP 503", "context deadline exceeded"),
            ("HTTP 503", "upstream request timeout: processing exceeded the 60s limit"),
            ("state 0", "请求处理超过 60 秒未完成"),
            ("HTTP 408", "backend timeout exceeded"),
            ("Forbidden", "无权限访问该资源"),
            ("AccessDenied", "权限不足"),
            ("HTTP 403", "monthly spending limit exceeded"),
            ("NotFound.group_id", "limit"),
            ("AccessDenied", "bad key"),
            ("HTTP 400", "bad request"),
        ] {
            assert_eq!(limit_named(code, message), None, "{code}: {message}");
        }
    }

    #[test]
    fn a_missing_group_is_recognised_however_it_is_spelled() {
        for code in ["NotFound.group_id", "NotFound.GroupId", "notfound.groupID", "rejected: NotFound.Group_Id: x"] {
            assert!(is_missing_group(code), "{code}");
        }
        assert!(!is_missing_group("NotFound.asset_id"));
        assert!(!is_missing_group("InvalidParameter.group"));
    }

    #[test]
    fn only_an_unknown_task_says_the_key_is_accepted() {
        for code in ["NotFound.task_id", "NotFound.TaskId", "NotFound.Asset"] {
            assert!(is_unknown_task(code), "{code}");
        }
        for code in ["NotFound", "HTTP 404", "NotFound.group_id", "NotFound.ProjectName"] {
            assert!(!is_unknown_task(code), "{code}");
        }
    }
}
