//! `rolecall serve` in process, on a fresh account and a free loopback
//! port, stopped when dropped.

use rolecall::aws::{AwsClient, Credentials};
use rolecall::emulator::{AccountFile, Emulator};
use rolecall::server::{Running, Server};

pub struct Served {
    // Dropped first: the server stops before its account's directory goes.
    running: Running,
    account: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    pub fn start() -> Served {
        let dir = tempfile::tempdir().unwrap();
        let account = dir.path().join("account.db");
        let running = Server::bind(&AccountFile::new(&account), "127.0.0.1:0".parse().unwrap())
            .unwrap()
            .spawn()
            .unwrap();
        Served {
            running,
            account,
            _dir: dir,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.running.addr())
    }

    pub fn account(&self) -> &std::path::Path {
        &self.account
    }

    /// The account, opened in process beside the server.
    pub fn emulator(&self) -> Emulator {
        Emulator::open(&self.account).unwrap()
    }

    pub fn credentials(&self) -> Credentials {
        let key = self.emulator().admin_key().unwrap();
        Credentials {
            access_key_id: key.access_key_id,
            secret_access_key: key.secret_access_key,
            session_token: None,
        }
    }

    /// A client signing with the administrator key.
    pub fn client(&self) -> AwsClient {
        AwsClient::new(&self.endpoint(), "us-east-1", self.credentials())
    }
}
