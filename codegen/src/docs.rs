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
    /// A worker function's EventBridge schedule (it has no HTTP events).
    pub schedule: Option<String>,
}

#[derive(Template)]
#[template(path = "template.yaml", escape = "none")]
pub struct SamTemplate<'a> {
    pub header: &'a str,
    pub app: &'a str,
    pub functions: &'a [SamFunction],
    pub web_adapter: Option<&'a WebAdapter>,
    pub deploy: &'a Deployment,
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
    /// The scheduled workers, each a function of its own.
    pub workers: &'a [crate::worker::WorkerNote],
    /// Work of the start-up code that gets no function, with why.
    pub workers_left_out: &'a [String],
    /// The monolith's other binaries, not built into any function.
    pub left_out: &'a [String],
    pub edits: &'a [Edit],
    /// Every environment variable the app reads.
    pub variables: &'a [VarRow],
    pub deploy: &'a Deployment,
    /// System C libraries the functions would link, one line each.
    pub native: &'a [String],
    /// Every connection pool, capped by `pool_max` or not.
    pub pools: &'a [crate::code_edits::Note],
    /// Every migration or schema step of the start-up code.
    pub migrations: &'a [crate::code_edits::Note],
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
    pub deploy: &'a Deployment,
}

impl Readme<'_> {
    /// The order in which to move functions off the monolith
    /// (`--monolith-url`): the least exposed first. Fewest hazards, then
    /// those that only read (every route `GET`, `HEAD` or `OPTIONS`), then
    /// fewest routes; one line each.
    pub fn move_order(&self) -> Vec<String> {
        let reads = |r: &String| {
            r.starts_with("GET ") || r.starts_with("HEAD ") || r.starts_with("OPTIONS ")
        };
        let mut order: Vec<&FunctionNote> = self.functions.iter().collect();
        order.sort_by_key(|f| {
            (
                f.hazards.len(),
                !f.routes.iter().all(reads),
                f.routes.len(),
                f.name.as_str(),
            )
        });
        order
            .into_iter()
            .map(|f| {
                let hazards = match f.hazards.len() {
                    0 => "no hazard".to_owned(),
                    1 => "1 hazard in MIGRATION.md".to_owned(),
                    n => format!("{n} hazards in MIGRATION.md"),
                };
                format!(
                    "`{}` (`{}FunctionRoutes`): {} route(s), {}, {hazards}",
                    f.name,
                    logical_id(&f.name),
                    f.routes.len(),
                    if f.routes.iter().all(reads) {
                        "reads only"
                    } else {
                        "writes"
                    }
                )
            })
            .collect()
    }
}

/// `--monolith-url`: the running monolith, behind the HTTP API's default
/// route, for the routes no deployed function takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monolith {
    /// The origin as given, without a trailing `/`.
    pub url: String,
}

impl Monolith {
    /// An `http(s)://host[:port]` origin. A path would be lost: API Gateway
    /// sends each request's own path to the monolith (`overwrite:path`).
    pub fn parse(url: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{url:?} is not the monolith's origin: give `https://host[:port]` \
                 with no path, query or credentials (API Gateway sends each request's own path to it)"
            )
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(bad)?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        let port_ok = port.is_none_or(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n > 0)
        });
        if !host_ok || !port_ok {
            return Err(bad());
        }
        Ok(Monolith {
            url: url.strip_suffix('/').unwrap_or(url).to_owned(),
        })
    }

    /// `MonolithUrl`'s `AllowedPattern` (what [`Monolith::parse`] accepts).
    pub fn pattern(&self) -> &'static str {
        "^https?://[A-Za-z0-9.-]+(:[0-9]+)?/?$"
    }
}

/// A function's routes, `(method, path)`, with `HEAD` beside each `GET`:
/// the monolith's router answers `HEAD` where it answers `GET` (axum and
/// rocket run the `GET` handler without the body; actix-web answers its
/// own 405), and the `cargo lambda watch` router sends `HEAD` to the `GET`
/// route's function, so on API Gateway the same function gets it, not the
/// default route (whose guard would refuse it as another function's
/// route). Not where the plan has a `HEAD` route of that shape: its own
/// function takes it.
pub fn with_head(
    own: &[(String, String)],
    all_routes: &[(String, String)],
) -> Vec<(String, String)> {
    use cleave_analyzer::partition::route_shape;
    let mut shapes: std::collections::BTreeSet<String> = all_routes
        .iter()
        .map(|(m, p)| route_shape(&format!("{m} {p}")))
        .collect();
    let mut out = own.to_vec();
    for (m, p) in own {
        if m == "GET" && shapes.insert(route_shape(&format!("HEAD {p}"))) {
            out.push(("HEAD".to_owned(), p.clone()));
        }
    }
    out
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

/// A string as a YAML double-quoted scalar (JSON-compatible escapes).
pub fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The variables `template.yaml` sets for the Web Adapter.
const ADAPTER_VARS: [&str; 3] = ["AWS_LWA_PORT", "AWS_LWA_READINESS_CHECK_PROTOCOL", "PORT"];

/// A variable that is a template parameter.
pub struct EnvParam {
    pub var: String,
    /// The parameter's logical id (`EnvDatabaseUrl`).
    pub id: String,
    /// YAML-quoted.
    pub description: String,
    pub no_echo: bool,
    /// YAML-quoted; `""` for an optional variable (then only set when given).
    pub default: Option<String>,
    /// Set only when the parameter is not empty (`Has<id>` condition): the
    /// app tells an unset variable from an empty one.
    pub optional: bool,
}

/// A variable resolved at deploy time (`[deploy.env]`).
pub struct EnvResolved {
    pub var: String,
    /// The dynamic reference, YAML-quoted.
    pub value: String,
}

/// One IAM statement: read these secrets or parameters.
pub struct ReadPolicy {
    pub action: &'static str,
    /// YAML values (`!Sub "arn:..."` or a quoted ARN).
    pub resources: Vec<String>,
}

/// What `template.yaml` deploys beside the functions: parameters and
/// environment, the optional VPC, logs, tracing, rights to the secrets.
pub struct Deployment {
    pub params: Vec<EnvParam>,
    pub resolved: Vec<EnvResolved>,
    pub policies: Vec<ReadPolicy>,
    /// Variables read only while compiling: set where `sam build` runs.
    pub build_time: Vec<String>,
    /// Variables the template cannot set, each with why.
    pub not_set: Vec<String>,
    pub log_retention_days: u32,
    pub json_logs: bool,
    pub tracing: bool,
    /// MIGRATION.md's table.
    pub rows: Vec<VarRow>,
    /// `--monolith-url`: the API's default route proxies to the monolith,
    /// and each function's routes move to it by a stack parameter.
    pub monolith: Option<Monolith>,
    /// `[deploy] alias`: each function's `AutoPublishAlias`.
    pub alias: Option<String>,
    /// `[deploy] deployment`: the CodeDeploy configuration that shifts the
    /// alias, rolled back by each function's errors alarm.
    pub deployment: Option<String>,
    /// Whether the start-up code's migrations were wrapped: every function
    /// then gets `CLEAVE_SKIP_MIGRATIONS` (see `code_edits`).
    pub skip_migrations: bool,
}

impl Deployment {
    /// The HTTP API's logical id: SAM's implicit API, or the one declared
    /// for `--monolith-url`.
    pub fn api_id(&self) -> &'static str {
        if self.monolith.is_some() {
            "HttpApi"
        } else {
            "ServerlessHttpApi"
        }
    }
}

/// A row of MIGRATION.md's variables table.
pub struct VarRow {
    pub name: String,
    pub read_at: String,
    pub need: String,
    pub functions: String,
    pub template: String,
}

impl Deployment {
    /// From the analysis's variables and the plan's `[deploy]` table: each
    /// variable a parameter (secrets `NoEcho`, without the app's fallback),
    /// unless `[deploy.env]` resolves it from Secrets Manager or SSM.
    /// Under the web adapter, the template sets `PORT` (and the adapter's
    /// own variables) itself: those are neither parameters nor resolved.
    pub fn new(
        analysis: &cleave_analyzer::analysis::Analysis,
        plan: &cleave_analyzer::plan::Plan,
        web_adapter: Option<&WebAdapter>,
        monolith: Option<Monolith>,
    ) -> Self {
        use cleave_analyzer::plan::{EnvSource, lambda_reserved, valid_env_name};
        let deploy = &plan.deploy;
        let mut d = Deployment {
            params: Vec::new(),
            resolved: Vec::new(),
            policies: Vec::new(),
            build_time: Vec::new(),
            not_set: Vec::new(),
            log_retention_days: deploy.log_retention_days,
            json_logs: deploy.json_logs,
            tracing: deploy.tracing,
            rows: Vec::new(),
            monolith,
            alias: deploy.alias.clone(),
            deployment: deploy.deployment.clone(),
            skip_migrations: false,
        };
        // Logical ids share one namespace with the resources and the VPC
        // parameters.
        let mut ids: std::collections::BTreeSet<String> = [
            "VpcSubnetIds",
            "VpcSecurityGroupIds",
            "MonolithUrl",
            "HttpApi",
        ]
        .map(str::to_owned)
        .into();
        let owners = |routes: &[String]| -> Vec<&str> {
            plan.functions
                .iter()
                .filter(|f| f.routes.iter().any(|r| routes.contains(r)))
                .map(|f| f.name.as_str())
                .collect()
        };
        for v in &analysis.config {
            let read_at = v
                .reads
                .iter()
                .map(|r| format!("`{}:{}` ({})", r.file, r.line, r.how))
                .collect::<Vec<_>>()
                .join(", ");
            let need = match (&v.required, &v.default) {
                (true, _) => "required".to_owned(),
                (false, Some(x)) => format!("default `{}`", x.replace('`', "'")),
                (false, None) => "optional".to_owned(),
            };
            let functions = if v.startup || v.entrypoints.is_empty() {
                "every function (start-up)".to_owned()
            } else {
                owners(&v.entrypoints)
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let template = if let Some(w) =
                web_adapter.filter(|_| ADAPTER_VARS.contains(&v.name.as_str()))
            {
                format!("set to `{}` for the Web Adapter", w.port)
            } else if let Some(src) = deploy.env.get(&v.name) {
                d.resolved.push(EnvResolved {
                    var: v.name.clone(),
                    value: yaml_str(&src.resolve()),
                });
                match src {
                    EnvSource::SecretsManager { .. } => "resolved from Secrets Manager".to_owned(),
                    EnvSource::Ssm { .. } => "resolved from SSM Parameter Store".to_owned(),
                }
            } else if v.build_time {
                d.build_time.push(v.name.clone());
                "read while compiling: set it where `sam build` runs".to_owned()
            } else if lambda_reserved(&v.name) {
                d.not_set.push(format!("{} (Lambda sets it)", v.name));
                "set by Lambda".to_owned()
            } else if v.name.ends_with('*') {
                d.not_set
                    .push(format!("{} (a prefix: each variable under it)", v.name));
                "a prefix: add the variables you use to `[deploy.env]` or by hand".to_owned()
            } else if !valid_env_name(&v.name) {
                d.not_set
                    .push(format!("{} (not a name Lambda accepts)", v.name));
                "not a name Lambda accepts".to_owned()
            } else {
                let base = format!("Env{}", logical_id(&v.name.to_ascii_lowercase()));
                let mut id = base.clone();
                let mut n = 2;
                while ids.contains(&id) {
                    id = format!("{base}{n}");
                    n += 1;
                }
                ids.insert(id.clone());
                // Where the code reads it, before a file that sets it.
                let first = v
                    .reads
                    .iter()
                    .find(|r| r.file.ends_with(".rs"))
                    .or(v.reads.first());
                let at = first
                    .map(|r| format!(", read at {}:{}", r.file, r.line))
                    .unwrap_or_default();
                let (default, optional, note) = match (&v.required, &v.default) {
                    (true, _) => (None, false, "required".to_owned()),
                    (false, Some(x)) if !v.secret => {
                        (Some(yaml_str(x)), false, "the app's default".to_owned())
                    }
                    (false, Some(_)) => (
                        None,
                        false,
                        "secret: the app's fallback is a development value, give the real one"
                            .to_owned(),
                    ),
                    (false, None) => (
                        Some("\"\"".to_owned()),
                        true,
                        "optional: empty leaves it unset".to_owned(),
                    ),
                };
                let description = yaml_str(&truncate(&format!("{}{at}; {note}", v.name), 4000));
                d.params.push(EnvParam {
                    var: v.name.clone(),
                    id: id.clone(),
                    description,
                    no_echo: v.secret,
                    default,
                    optional,
                });
                format!(
                    "parameter `{id}`{}",
                    if v.secret { " (NoEcho)" } else { "" }
                )
            };
            let cell = |s: String| s.replace('|', "\\|");
            d.rows.push(VarRow {
                name: v.name.clone(),
                read_at: cell(read_at),
                need: cell(need + if v.secret { ", secret" } else { "" }),
                functions,
                template,
            });
        }
        // Variables the plan resolves that the analysis did not find.
        for (name, src) in &deploy.env {
            let adapters = web_adapter.is_some() && ADAPTER_VARS.contains(&name.as_str());
            if !adapters && !analysis.config.iter().any(|v| &v.name == name) {
                d.resolved.push(EnvResolved {
                    var: name.clone(),
                    value: yaml_str(&src.resolve()),
                });
            }
        }
        d.resolved.sort_by(|a, b| a.var.cmp(&b.var));
        // Rights to read exactly the secrets and parameters referenced.
        let mut secrets = std::collections::BTreeSet::new();
        let mut parameters = std::collections::BTreeSet::new();
        for (name, src) in &deploy.env {
            if web_adapter.is_some() && ADAPTER_VARS.contains(&name.as_str()) {
                continue;
            }
            match src {
                EnvSource::SecretsManager { secret_id, .. } if secret_id.starts_with("arn:") => {
                    secrets.insert(yaml_str(secret_id));
                }
                EnvSource::SecretsManager { secret_id, .. } => {
                    // A name: its ARN ends in `-` and six random characters.
                    secrets.insert(format!(
                        "!Sub {}",
                        yaml_str(&format!(
                            "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{secret_id}-??????"
                        ))
                    ));
                }
                EnvSource::Ssm { name, .. } => {
                    parameters.insert(format!(
                        "!Sub {}",
                        yaml_str(&format!(
                            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}",
                            name.trim_start_matches('/')
                        ))
                    ));
                }
            }
        }
        if !secrets.is_empty() {
            d.policies.push(ReadPolicy {
                action: "secretsmanager:GetSecretValue",
                resources: secrets.into_iter().collect(),
            });
        }
        if !parameters.is_empty() {
            d.policies.push(ReadPolicy {
                action: "ssm:GetParameter",
                resources: parameters.into_iter().collect(),
            });
        }
        d
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn apigw_paths_take_whole_segments() {
        for (path, want) in [
            ("/a/{id:\\d+}/{*rest}", "/a/{id}/{rest+}"),
            ("/tail/{tail:.*}", "/tail/{tail+}"),
            ("/plugins/{id}/call{*route}", "/plugins/{id}/{route+}"),
            ("/files/v{n}/meta", "/files/{n}/meta"),
            ("/static", "/static"),
        ] {
            assert_eq!(super::apigw_path(path), want, "{path}");
        }
    }
}
