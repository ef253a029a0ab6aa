//! A run's metrics for a job that ends before anything scrapes it: written as a Prometheus text
//! file (node_exporter's textfile collector) and/or pushed to a Pushgateway.
//!
//! The command installs a Prometheus recorder for the [`metrics`] facade the library records to,
//! so the file holds the library's own counters and histograms (see [`crate::events`]) plus the
//! run's: `soft_delete_cli_last_run_timestamp_seconds`, `soft_delete_cli_run_duration_seconds`,
//! `soft_delete_cli_exit_code` (each with a `command` label) and, for `prune`,
//! `soft_delete_cli_prune_rows` per `db.collection.name` (rows removed, or counted by a dry run,
//! with a `dry_run` label).

use std::path::Path;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Histogram buckets, in seconds, as OpenTelemetry advises for `db.client.operation.duration`.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// Installs a Prometheus recorder as the process's `metrics` recorder.
///
/// # Errors
///
/// When another recorder is installed already (the application's own).
pub(crate) fn install() -> Result<PrometheusHandle, String> {
    let builder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map_err(|e| format!("metrics: {e}"))?;
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| {
        "--metrics-textfile and --pushgateway install their own metrics recorder, and this \
         program has one installed already: leave them out and export through yours"
            .to_owned()
    })?;
    Ok(handle)
}

/// Writes `text` to `path` whole or not at all: into a temporary file in the same folder, then
/// renamed over `path`, so the collector never reads half a file.
pub(crate) fn write_textfile(path: &Path, text: &str) -> Result<(), String> {
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("--metrics-textfile {}: not a file name", path.display()))?;
    let mut temporary = file_name.to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary);
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("--metrics-textfile {}: {e}", path.display())
        })
}

/// Pushes `text` to the Pushgateway at `url` (`http://host:port`, optionally with a path
/// prefix and `user:password@`) under `job`, replacing that job's previous push (`PUT`).
pub(crate) async fn push(url: &str, job: &str, text: &str) -> Result<(), String> {
    let target = Target::parse(url)?;
    let body = text.as_bytes();
    let mut request = format!(
        "PUT {}/metrics/job/{} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n",
        target.path.trim_end_matches('/'),
        path_segment(job),
        target.host_port,
        body.len()
    );
    if let Some(credentials) = &target.credentials {
        request.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(credentials.as_bytes())
        ));
    }
    request.push_str("\r\n");
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&target.host_port).await?;
        stream.write_all(request.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .map_err(|_| format!("--pushgateway {url}: no answer within 30s"))?
        .map_err(|e| format!("--pushgateway {url}: {e}"))?;
    let response = String::from_utf8_lossy(&response);
    let status_line = response.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status.starts_with('2') {
        Ok(())
    } else {
        Err(format!(
            "--pushgateway {url}: the gateway answered `{status_line}`"
        ))
    }
}

/// Where a push goes.
#[derive(Debug, PartialEq)]
struct Target {
    host_port: String,
    path: String,
    credentials: Option<String>,
}

impl Target {
    fn parse(url: &str) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!(
                "--pushgateway {url}: only http:// URLs are supported (put a TLS proxy in front \
                 for https)"
            )
        })?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((credentials, host)) => (Some(credentials.to_owned()), host),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(format!("--pushgateway {url}: no host"));
        }
        let host_port = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        Ok(Target {
            host_port,
            path: path.to_owned(),
            credentials,
        })
    }
}

/// `text` made safe as one segment of a URL path.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Standard base64 with padding, for a Basic authorization header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pushgateway_url_gives_host_path_and_credentials() {
        assert_eq!(
            Target::parse("http://gw:9091").expect("parsed"),
            Target {
                host_port: "gw:9091".into(),
                path: String::new(),
                credentials: None
            }
        );
        assert_eq!(
            Target::parse("http://u:p@gw/prefix/").expect("parsed"),
            Target {
                host_port: "gw:80".into(),
                path: "/prefix/".into(),
                credentials: Some("u:p".into())
            }
        );
        let refused = Target::parse("https://gw:9091").expect_err("refused");
        assert!(refused.contains("only http://"), "{refused}");
    }

    #[test]
    fn basic_credentials_are_base64() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(path_segment("shop ops/1"), "shop%20ops%2F1");
    }
}
