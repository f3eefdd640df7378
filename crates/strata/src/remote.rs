//! `strata config apply` and `strata config export`: move settings and
//! segment types between a TOML file and a server, over its HTTP API.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use strata_domain::config::input::{ConfigInput, ServerKey, TypeInput};
use strata_domain::config::{evaluation_order, parse_config};
use strata_store::{Recompute, Retention};

/// Where the server is and who asks.
#[derive(clap::Args)]
pub struct ServerArgs {
    /// The server's base URL, such as http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "STRATA_SERVER")]
    server: String,
    /// An API token (admin to change settings, editor for types).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STRATA_TOKEN",
        hide_env_values = true
    )]
    token: String,
}

/// `strata config ...`.
#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// Send a configuration file's settings and types to a server.
    Apply {
        /// The configuration, TOML.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Write a server's settings and types as a configuration file.
    Export {
        #[command(flatten)]
        server: ServerArgs,
        /// Where to write it (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Runs a `config` command.
pub fn run(command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Apply { file, server } => apply(&file, &server),
        ConfigCommand::Export { server, out } => export(&server, out.as_deref()),
    }
}

/// A request's answer, or an error with the server's message.
fn call(server: &ServerArgs, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
    let url = format!("{}{path}", server.server.trim_end_matches('/'));
    let request =
        ureq::request(method, &url).set("Authorization", &format!("Bearer {}", server.token));
    let response = match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    };
    match response {
        Ok(r) => Ok(r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(status, r)) => {
            let body: Value = r.into_json().unwrap_or(Value::Null);
            let mut message = format!(
                "{method} {path}: {status} {}",
                body["message"].as_str().unwrap_or("")
            );
            for problem in body["problems"].as_array().into_iter().flatten() {
                message.push_str(&format!(
                    "\n  {}: {}",
                    problem["path"].as_str().unwrap_or(""),
                    problem["message"].as_str().unwrap_or("")
                ));
            }
            bail!(message)
        }
        Err(e) => Err(e).with_context(|| format!("cannot reach {url}")),
    }
}

/// Percent-encodes a type name for a URL path.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn apply(file: &Path, server: &ServerArgs) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    // The file is checked here first, so that its problems name its places.
    let config = parse_config(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let input: ConfigInput =
        toml::from_str(&text).with_context(|| format!("{}", file.display()))?;
    let (settings, types) = input.split();
    call(
        server,
        "PUT",
        "/api/v1/settings",
        Some(&serde_json::to_value(&settings)?),
    )?;
    eprintln!("settings applied");
    // Types that rules read go first, so that every PUT validates.
    let order = evaluation_order(&config.types)
        .map_err(|cycle| anyhow::anyhow!("a cycle: {}", cycle.join(" -> ")))?;
    for i in order {
        let ty = &types[i];
        call(
            server,
            "PUT",
            &format!("/api/v1/segment-types/{}", encode(&ty.name)),
            Some(&serde_json::to_value(ty)?),
        )?;
        eprintln!("type '{}' applied", ty.name);
    }
    Ok(())
}

fn export(server: &ServerArgs, out: Option<&Path>) -> Result<()> {
    let mut settings = call(server, "GET", "/api/v1/settings", None)?;
    if let Some(object) = settings.as_object_mut() {
        for key in Retention::KEYS {
            if let Some(value) = object.remove(key) {
                eprintln!("setting {key} = {value} stays on the server; files cannot hold it");
            }
        }
    }
    let mut input: ConfigInput =
        serde_json::from_value(settings).context("the server's settings")?;
    let types = call(server, "GET", "/api/v1/segment-types", None)?;
    for mut body in types.as_array().cloned().unwrap_or_default() {
        if let Some(object) = body.as_object_mut() {
            for key in ServerKey::ALL {
                if let Some(value) = object.remove(key.name()) {
                    if value != Value::Bool(false)
                        && !value.is_null()
                        && value != Recompute::Manual.as_str()
                    {
                        eprintln!(
                            "type '{}': {} = {value} stays on the server; files cannot hold it",
                            object.get("name").and_then(Value::as_str).unwrap_or(""),
                            key.name()
                        );
                    }
                }
            }
        }
        let ty: TypeInput = serde_json::from_value(body).context("a type from the server")?;
        input.types.push(ty);
    }
    let text = toml::to_string(&input).context("writing TOML")?;
    match out {
        None => print!("{text}"),
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())?;
            tmp.persist(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
