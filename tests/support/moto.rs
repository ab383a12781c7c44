//! moto's server (pinned in tests/python/requirements.txt, installed by
//! scripts/python-env.sh) on a free loopback port, with AWS's managed
//! policies loaded; killed when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long moto may take to answer after it starts (about 1.5 s here).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The keys moto takes (it checks no signature).
const ACCESS_KEY_ID: &str = "testing";
const SECRET_ACCESS_KEY: &str = "testing";

/// moto's keys, for rolecall's AWS client.
pub fn credentials() -> rolecall::aws::Credentials {
    rolecall::aws::Credentials {
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
        session_token: None,
    }
}

pub struct Moto {
    child: Child,
    port: u16,
}

/// The pinned Python environment's directory, built once per test process
/// (scripts/python-env.sh serialises concurrent callers with a lock).
pub fn python_env() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(repo.join("scripts/python-env.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("running scripts/python-env.sh");
        assert!(out.status.success(), "scripts/python-env.sh failed");
        let stdout = String::from_utf8(out.stdout).unwrap();
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("python-env.sh printed no path")
                .trim(),
        )
    })
}

impl Moto {
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python_env().join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        let moto = Moto { child, port };
        let started = Instant::now();
        while !moto.reset() {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "moto_server did not answer on port {port} within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Wipes moto's state; whether it answered 200.
    pub fn reset(&self) -> bool {
        self.request("POST", "/moto-api/reset", "", "")
            .is_some_and(|(status, _)| status == 200)
    }

    /// One S3 request: the status and the body. `path` is `/BUCKET` or
    /// `/BUCKET/KEY`. moto checks no signature, but routes a request to a
    /// service by its credential scope: an unsigned DELETE is not S3's.
    pub fn s3(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let scope = "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n";
        self.request(method, path, scope, body)
            .unwrap_or_else(|| panic!("moto did not answer {method} {path}"))
    }

    /// One plain HTTP/1.1 request with `headers` (each line ending in
    /// CRLF): the status and body, `None` when moto does not answer.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.get(9..12)?.parse().ok()?;
        let body = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
            .to_string();
        Some((status, body))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
