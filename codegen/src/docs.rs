//! Whole files rendered from askama templates laid out like the output:
//! `template.yaml` (AWS SAM), `MIGRATION.md`, `README.md`.

use askama::Template;
use cleave_analyzer::partition::Segment;

/// A change cleave made to the monolith's code or manifests, for MIGRATION.md.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub file: String,
    pub line: u32,
    pub what: String,
    pub why: String,
}

/// How `template.yaml` puts a function behind the AWS Lambda Web Adapter
/// (`--adapter web-adapter`).
#[derive(Debug)]
pub struct WebAdapter {
    /// The arm64 layer's ARN as the adapter's documentation writes it for
    /// SAM, `${AWS::Region}` left to `!Sub`.
    pub layer: &'static str,
    /// `PORT` (the function's server) and `AWS_LWA_PORT` (where the adapter
    /// sends requests).
    pub port: u16,
}

impl WebAdapter {
    /// The layer's version (the ARN's last field).
    pub fn version(&self) -> &'static str {
        self.layer.rsplit(':').next().unwrap_or("")
    }
}

/// Version 30 of `LambdaAdapterLayerArm64`: the one the adapter's guide
/// (github.com/aws/aws-lambda-web-adapter,
/// `docs/guide/src/getting-started/zip-packages.md`) lists for AWS
/// commercial regions. Port 8000, not the adapter's default 8080, which
/// `sam local` takes for its runtime interface emulator.
///
/// The layer installs the adapter as an extension
/// (`/opt/extensions/lambda-adapter`), so on `provided.al2023` Lambda starts
/// it beside the function's `bootstrap`; `AWS_LAMBDA_EXEC_WRAPPER` is not
/// set because Lambda runs no wrapper scripts on OS-only runtimes (AWS's
/// own `rust-axum-zip` and `rust-actix-web-zip` examples set only the
/// layer).
pub const WEB_ADAPTER: WebAdapter = WebAdapter {
    layer: "arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerArm64:30",
    port: 8000,
};

pub struct Event {
    pub id: String,
    pub path: String,
    pub method: String,
}

pub struct SamFunction {
    pub name: String,
    pub logical_id: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub events: Vec<Event>,
    /// Whether this function takes the API's default route: every request
    /// no event matches (an unknown path, a method a path lacks), which the
    /// monolith answered with its own 404, 405 or fallback handler.
    pub default_route: bool,
}

#[derive(Template)]
#[template(path = "template.yaml", escape = "none")]
pub struct SamTemplate<'a> {
    pub header: &'a str,
    pub app: &'a str,
    pub functions: &'a [SamFunction],
    pub web_adapter: Option<&'a WebAdapter>,
}

pub struct HazardNote {
    pub code: String,
    pub file: String,
    pub line: u32,
    pub item: String,
    pub message: String,
    pub advice: String,
}

impl From<&cleave_analyzer::hazards::Hazard> for HazardNote {
    fn from(h: &cleave_analyzer::hazards::Hazard) -> Self {
        HazardNote {
            code: h.code.to_owned(),
            file: h.file.clone(),
            line: h.line,
            item: h.item.clone(),
            message: h.message.clone(),
            advice: h.advice.clone(),
        }
    }
}

pub struct FunctionNote {
    pub name: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub routes: Vec<String>,
    pub hazards: Vec<HazardNote>,
}

#[derive(Template)]
#[template(path = "MIGRATION.md", escape = "none")]
pub struct Migration<'a> {
    pub header: &'a str,
    pub app: &'a str,
    pub plan_file: &'a str,
    /// The function that takes the API's default route ([`SamFunction`]).
    pub default_function: &'a str,
    /// Hazards that no route or worker reaches: in the start-up code every
    /// function runs (or in code nothing calls).
    pub startup_hazards: &'a [HazardNote],
    pub routes: usize,
    pub cores: &'a [String],
    /// The serving binary's library package, as "`name` (in `dir/`)".
    pub main_crate: &'a str,
    pub framework: &'a str,
    /// How a function keeps to its routes (the facade's words).
    pub guard: &'a str,
    pub web_adapter: Option<&'a WebAdapter>,
    pub functions: &'a [FunctionNote],
    /// Workers the start-up code spawns: every function still starts them.
    pub workers: &'a [String],
    /// The monolith's other binaries, not built into any function.
    pub left_out: &'a [String],
    pub edits: &'a [Edit],
}

#[derive(Template)]
#[template(path = "README.md", escape = "none")]
pub struct Readme<'a> {
    pub header: &'a str,
    pub app: &'a str,
    pub plan_file: &'a str,
    pub first: &'a str,
    pub functions: &'a [FunctionNote],
    pub web_adapter: Option<&'a WebAdapter>,
}

/// A route path in API Gateway syntax: `{*rest}` and actix's `{tail:.*}`
/// -> `{rest+}` (greedy, last segment only), `{id:\d+}` -> `{id}`.
pub fn apigw_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .map(|(i, s)| match Segment::of(s) {
            Segment::Rest { name, .. } if i == last => format!("{{{name}+}}"),
            Segment::Rest { name, .. } | Segment::Param(name) => format!("{{{name}}}"),
            Segment::Literal => (*s).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An alphanumeric CloudFormation id: `get-orders-id` -> `GetOrdersId`.
pub fn logical_id(raw: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'F');
    }
    out
}
