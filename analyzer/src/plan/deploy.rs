//! The plan's `[deploy]` table: how the generated template deploys, as
//! people write it.
//!
//! ```toml
//! [deploy]
//! log_retention_days = 30     # CloudWatch Logs retention of each function's log group
//! log_format = "json"         # "text" (default) or "json": Lambda's structured logs
//! tracing = true              # AWS X-Ray active tracing
//! alias = "live"              # AutoPublishAlias: each deploy publishes a version behind it
//! deployment = "Canary10Percent5Minutes"  # CodeDeploy shifts the alias, rolled back on errors
//! pool_max = 2                # caps every connection pool's size in the generated code
//!
//! [deploy.env]                # where a variable's value comes from at deploy time
//! DATABASE_URL = "secretsmanager:prod/db:SecretString:url"
//! API_BASE = "ssm:/app/api-base"
//! ```
//! A variable not in `[deploy.env]` is a template parameter. Every value is
//! checked here; a bad one is one error naming its line.

use std::collections::BTreeMap;

use serde::Serialize;
use toml_edit::{Item, Table};

use super::Lines;
use crate::diagnostic::{Diagnostic, Severity};

/// CloudWatch Logs' allowed retentions, in days.
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// CodeDeploy's predefined Lambda deployment configurations, as SAM's
/// `DeploymentPreference.Type` takes them.
pub const DEPLOYMENT_TYPES: [&str; 9] = [
    "AllAtOnce",
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
];

/// Whether Lambda and SAM accept `name` as an alias: letters, digits, `-`
/// and `_`, at most 128, not all digits (a version number).
pub fn valid_alias(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit())
}

/// Log retention when the plan gives none.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    /// `[deploy.env]`: variables whose values are resolved at deploy time.
    pub env: BTreeMap<String, EnvSource>,
    /// Line of each `[deploy.env]` entry.
    #[serde(skip)]
    pub env_lines: BTreeMap<String, u32>,
    pub log_retention_days: u32,
    /// Lambda's JSON log format (`log_format = "json"`), else text.
    pub json_logs: bool,
    /// X-Ray active tracing.
    pub tracing: bool,
    /// `alias = "live"`: SAM's `AutoPublishAlias`.
    pub alias: Option<String>,
    /// `deployment = "Canary10Percent5Minutes"`: the CodeDeploy
    /// configuration that shifts the alias (one of [`DEPLOYMENT_TYPES`]).
    pub deployment: Option<String>,
    /// `pool_max = 2`: the connection pools' size is capped at this in the
    /// generated code (an edit per pool, listed in MIGRATION.md).
    pub pool_max: Option<u32>,
}

/// The largest `pool_max` accepted: a Lambda instance serves one request
/// at a time.
pub const POOL_MAX_LIMIT: u32 = 100;

impl Default for Deploy {
    fn default() -> Self {
        Deploy {
            env: BTreeMap::new(),
            env_lines: BTreeMap::new(),
            log_retention_days: DEFAULT_RETENTION_DAYS,
            json_logs: false,
            tracing: false,
            alias: None,
            deployment: None,
            pool_max: None,
        }
    }
}

/// Where a variable's value comes from: a CloudFormation dynamic reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EnvSource {
    /// `secretsmanager:<secret-id>[:SecretString[:<json-key>[:<stage>[:<version>]]]]`.
    SecretsManager {
        /// The secret's name or ARN.
        secret_id: String,
        /// Everything after `secretsmanager:`, as written.
        reference: String,
    },
    /// `ssm:<parameter-name>[:<version>]`: a `String` parameter.
    Ssm { name: String, reference: String },
}

impl EnvSource {
    /// The dynamic reference: `{{resolve:secretsmanager:..}}`.
    pub fn resolve(&self) -> String {
        match self {
            EnvSource::SecretsManager { reference, .. } => {
                format!("{{{{resolve:secretsmanager:{reference}}}}}")
            }
            EnvSource::Ssm { reference, .. } => format!("{{{{resolve:ssm:{reference}}}}}"),
        }
    }

    /// Reads `secretsmanager:..` / `ssm:..`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |c: char| c.is_whitespace() || matches!(c, '{' | '}' | '"' | '\'' | '\\');
        if text.contains(bad) {
            return Err("may not hold spaces, quotes, braces or backslashes".to_owned());
        }
        if let Some(rest) = text.strip_prefix("secretsmanager:") {
            // An ARN holds seven `:`-separated fields of its own.
            let fields: Vec<&str> = rest.split(':').collect();
            let (id_fields, tail) = if rest.starts_with("arn:") {
                if fields.len() < 7 {
                    return Err("the secret's ARN is incomplete".to_owned());
                }
                fields.split_at(7)
            } else {
                fields.split_at(1)
            };
            let secret_id = id_fields.join(":");
            if secret_id.is_empty() {
                return Err("names no secret after `secretsmanager:`".to_owned());
            }
            if tail.len() > 4 {
                return Err(
                    "has more than SecretString:json-key:version-stage:version-id after the secret"
                        .to_owned(),
                );
            }
            if let Some(kind) = tail.first()
                && *kind != "SecretString"
            {
                return Err(format!(
                    "`{kind}` after the secret must be `SecretString` (the only kind CloudFormation resolves)"
                ));
            }
            return Ok(EnvSource::SecretsManager {
                secret_id,
                reference: rest.to_owned(),
            });
        }
        if let Some(rest) = text.strip_prefix("ssm:") {
            let (name, version) = match rest.rsplit_once(':') {
                Some((n, v)) if v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty() => {
                    (n, Some(v))
                }
                _ => (rest, None),
            };
            if name.is_empty() || name.contains(':') {
                return Err(
                    "names no SSM parameter after `ssm:` (`ssm:/app/name` or `ssm:/app/name:3`)"
                        .to_owned(),
                );
            }
            let _ = version;
            return Ok(EnvSource::Ssm {
                name: name.to_owned(),
                reference: rest.to_owned(),
            });
        }
        if text.starts_with("ssm-secure:") {
            return Err("`ssm-secure:` cannot be resolved into Lambda environment variables; keep the value in Secrets Manager (`secretsmanager:..`) or read it at run time".to_owned());
        }
        Err("must be \"secretsmanager:<secret-id>[:SecretString:<json-key>]\" or \"ssm:<parameter-name>\"".to_owned())
    }
}

/// Variables Lambda sets itself and refuses in a function's configuration.
pub const LAMBDA_RESERVED: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// Whether Lambda sets the variable itself (see [`LAMBDA_RESERVED`]).
pub fn lambda_reserved(name: &str) -> bool {
    LAMBDA_RESERVED.contains(&name)
}

/// Whether a name can be a Lambda environment variable: a letter, then
/// letters, digits and `_`.
pub fn valid_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads `[deploy]`; problems are diagnostics naming `file` and the line.
pub(super) fn read(root: &Table, lines: &Lines, file: &str, diags: &mut Vec<Diagnostic>) -> Deploy {
    let mut out = Deploy::default();
    let Some(item) = root.get("deploy") else {
        return out;
    };
    let line_of = |item: &Item| item.span().map(|s| lines.at(s.start)).unwrap_or(1);
    let mut warnings = Vec::new();
    let mut err = |line: u32, msg: String| {
        diags.push(Diagnostic::new("plan", Severity::Error, file, line, msg))
    };
    let Some(table) = item.as_table_like() else {
        err(
            line_of(item),
            "`deploy` must be a table: [deploy] log_retention_days = 30".to_owned(),
        );
        return out;
    };
    let mut deployment_line = None;
    for (key, v) in table.iter() {
        let line = line_of(v);
        match key {
            "log_retention_days" => match v.as_integer() {
                Some(n) if RETENTION_DAYS.iter().any(|d| i64::from(*d) == n) => {
                    out.log_retention_days = n as u32;
                }
                _ => err(
                    line,
                    format!(
                        "[deploy] log_retention_days must be one of CloudWatch's retentions: {}",
                        RETENTION_DAYS.map(|d| d.to_string()).join(", ")
                    ),
                ),
            },
            "log_format" => match v.as_str() {
                Some("json") => out.json_logs = true,
                Some("text") => out.json_logs = false,
                _ => err(
                    line,
                    "[deploy] log_format must be \"text\" or \"json\"".to_owned(),
                ),
            },
            "tracing" => match v.as_bool() {
                Some(b) => out.tracing = b,
                None => err(
                    line,
                    "[deploy] tracing must be true or false (X-Ray active tracing)".to_owned(),
                ),
            },
            "alias" => match v.as_str() {
                Some(a) if valid_alias(a) => out.alias = Some(a.to_owned()),
                _ => err(
                    line,
                    "[deploy] alias must be a Lambda alias name such as \"live\" (letters, digits, `-`, `_`; not only digits)".to_owned(),
                ),
            },
            "deployment" => match v.as_str() {
                Some(d) if DEPLOYMENT_TYPES.contains(&d) => {
                    out.deployment = Some(d.to_owned());
                    deployment_line = Some(line);
                }
                _ => err(
                    line,
                    format!(
                        "[deploy] deployment must be one of CodeDeploy's: {}",
                        DEPLOYMENT_TYPES.join(", ")
                    ),
                ),
            },
            "pool_max" => match v.as_integer() {
                Some(n) if (1..=i64::from(POOL_MAX_LIMIT)).contains(&n) => {
                    out.pool_max = Some(n as u32);
                }
                _ => err(
                    line,
                    format!(
                        "[deploy] pool_max must be a whole number from 1 to {POOL_MAX_LIMIT}: the connections each function instance's pool may open (2 suits Lambda)"
                    ),
                ),
            },
            "env" => read_env(v, lines, &mut out, &mut err),
            other => warnings.push(Diagnostic::new(
                "plan",
                Severity::Warning,
                file,
                line,
                format!(
                    "unknown key `{other}` in [deploy] is ignored (known: log_retention_days, log_format, tracing, alias, deployment, pool_max, env)"
                ),
            )),
        }
    }
    if let Some(line) = deployment_line
        && out.alias.is_none()
    {
        err(
            line,
            "[deploy] deployment shifts traffic between versions behind an alias: add alias = \"live\"".to_owned(),
        );
        out.deployment = None;
    }
    diags.extend(warnings);
    out
}

fn read_env(item: &Item, lines: &Lines, out: &mut Deploy, err: &mut dyn FnMut(u32, String)) {
    let line_of = |item: &Item| item.span().map(|s| lines.at(s.start)).unwrap_or(1);
    let Some(table) = item.as_table_like() else {
        err(
            line_of(item),
            "[deploy.env] must be a table: DATABASE_URL = \"secretsmanager:prod/db:SecretString:url\""
                .to_owned(),
        );
        return;
    };
    for (name, v) in table.iter() {
        let line = line_of(v);
        if lambda_reserved(name) {
            err(
                line,
                format!(
                    "[deploy.env] {name} is set by Lambda itself and cannot be configured; remove it"
                ),
            );
            continue;
        }
        if !valid_env_name(name) {
            err(
                line,
                format!(
                    "[deploy.env] {name:?} is not an environment variable name Lambda accepts (a letter, then letters, digits and `_`)"
                ),
            );
            continue;
        }
        let Some(text) = v.as_str() else {
            err(
                line,
                format!(
                    "[deploy.env] {name} must be a string such as \"ssm:/app/{}\"",
                    name.to_ascii_lowercase()
                ),
            );
            continue;
        };
        match EnvSource::parse(text) {
            Ok(src) => {
                out.env.insert(name.to_owned(), src);
                out.env_lines.insert(name.to_owned(), line);
            }
            Err(why) => err(line, format!("[deploy.env] {name} = {text:?} {why}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    /// Parses a plan with `deploy` appended and renders `[deploy]` as read,
    /// then every diagnostic as `line: message`.
    fn check(deploy: &str, expect: Expect) {
        let text =
            format!("version = 1\n[[function]]\nname = \"api\"\nroutes = [\"GET /\"]\n{deploy}");
        let (plan, diags) = super::super::parse(&text, "cleave.toml");
        let mut out = String::new();
        if let Some(plan) = plan {
            let d = &plan.deploy;
            out.push_str(&format!(
                "retention={} json={} tracing={}\n",
                d.log_retention_days, d.json_logs, d.tracing
            ));
            if d.alias.is_some() || d.deployment.is_some() {
                out.push_str(&format!(
                    "alias={:?} deployment={:?}\n",
                    d.alias, d.deployment
                ));
            }
            for (name, src) in &d.env {
                out.push_str(&format!(
                    "{name} = {} (line {})\n",
                    src.resolve(),
                    d.env_lines[name]
                ));
            }
        }
        for d in diags {
            out.push_str(&format!(
                "{}:{}: {:?} {}\n",
                d.file, d.line, d.severity, d.message
            ));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn defaults_without_a_deploy_table() {
        check(
            "",
            expect![[r#"
            retention=30 json=false tracing=false
        "#]],
        );
    }

    #[test]
    fn every_option_and_both_sources() {
        check(
            r#"
[deploy]
log_retention_days = 90
log_format = "json"
tracing = true

[deploy.env]
DATABASE_URL = "secretsmanager:prod/db:SecretString:url"
SESSION_KEY = "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/session-AbCdEf"
API_BASE = "ssm:/app/api-base"
FEATURE_FLAGS = "ssm:/app/flags:3"
"#,
            expect![[r#"
                retention=90 json=true tracing=true
                API_BASE = {{resolve:ssm:/app/api-base}} (line 14)
                DATABASE_URL = {{resolve:secretsmanager:prod/db:SecretString:url}} (line 12)
                FEATURE_FLAGS = {{resolve:ssm:/app/flags:3}} (line 15)
                SESSION_KEY = {{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/session-AbCdEf}} (line 13)
            "#]],
        );
    }

    #[test]
    fn bad_values_are_one_error_each_with_their_line() {
        check(
            r#"
[deploy]
log_retention_days = 10
log_format = "yaml"
tracing = "yes"
canary = 10

[deploy.env]
DATABASE_URL = "vault:secret/db"
TOKEN = "ssm-secure:/app/token"
AWS_REGION = "ssm:/app/region"
"BAD-NAME" = "ssm:/x"
PORT = 8080
KEY = "secretsmanager:prod/key:SecretBinary"
"#,
            expect![[r#"
                retention=30 json=false tracing=false
                cleave.toml:7: Error [deploy] log_retention_days must be one of CloudWatch's retentions: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
                cleave.toml:8: Error [deploy] log_format must be "text" or "json"
                cleave.toml:9: Error [deploy] tracing must be true or false (X-Ray active tracing)
                cleave.toml:13: Error [deploy.env] DATABASE_URL = "vault:secret/db" must be "secretsmanager:<secret-id>[:SecretString:<json-key>]" or "ssm:<parameter-name>"
                cleave.toml:14: Error [deploy.env] TOKEN = "ssm-secure:/app/token" `ssm-secure:` cannot be resolved into Lambda environment variables; keep the value in Secrets Manager (`secretsmanager:..`) or read it at run time
                cleave.toml:15: Error [deploy.env] AWS_REGION is set by Lambda itself and cannot be configured; remove it
                cleave.toml:16: Error [deploy.env] "BAD-NAME" is not an environment variable name Lambda accepts (a letter, then letters, digits and `_`)
                cleave.toml:17: Error [deploy.env] PORT must be a string such as "ssm:/app/port"
                cleave.toml:18: Error [deploy.env] KEY = "secretsmanager:prod/key:SecretBinary" `SecretBinary` after the secret must be `SecretString` (the only kind CloudFormation resolves)
                cleave.toml:10: Warning unknown key `canary` in [deploy] is ignored (known: log_retention_days, log_format, tracing, alias, deployment, pool_max, env)
            "#]],
        );
    }

    #[test]
    fn alias_and_deployment() {
        check(
            "[deploy]\nalias = \"live\"\ndeployment = \"Linear10PercentEvery1Minute\"\n",
            expect![[r#"
                retention=30 json=false tracing=false
                alias=Some("live") deployment=Some("Linear10PercentEvery1Minute")
            "#]],
        );
        check(
            "[deploy]\nalias = \"2\"\ndeployment = \"Canary5Percent\"\n",
            expect![[r#"
                retention=30 json=false tracing=false
                cleave.toml:6: Error [deploy] alias must be a Lambda alias name such as "live" (letters, digits, `-`, `_`; not only digits)
                cleave.toml:7: Error [deploy] deployment must be one of CodeDeploy's: AllAtOnce, Canary10Percent5Minutes, Canary10Percent10Minutes, Canary10Percent15Minutes, Canary10Percent30Minutes, Linear10PercentEvery1Minute, Linear10PercentEvery2Minutes, Linear10PercentEvery3Minutes, Linear10PercentEvery10Minutes
            "#]],
        );
        check(
            "[deploy]\ndeployment = \"AllAtOnce\"\n",
            expect![[r#"
                retention=30 json=false tracing=false
                cleave.toml:6: Error [deploy] deployment shifts traffic between versions behind an alias: add alias = "live"
            "#]],
        );
    }
}
