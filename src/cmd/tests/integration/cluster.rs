//! Starting a playground process for a test and connecting to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Playground {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Playground {
    pub fn start() -> Playground {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["playground", "--data-dir"])
            .arg(dir.path())
            .args(["--listen-addr", &format!("127.0.0.1:{port}")])
            .env("TRIBUTARY_BARRIER_INTERVAL_MS", "100")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start playground");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("ready line");
        assert_eq!(line.trim(), format!("tributary ready: psql -h 127.0.0.1 -p {port} -d dev -U root"));
        Playground { child, port, _dir: dir }
    }

    pub async fn connect(&self) -> tokio_postgres::Client {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let conf = format!("host=127.0.0.1 port={} user=root dbname=dev", self.port);
            match tokio_postgres::connect(&conf, tokio_postgres::NoTls).await {
                Ok((client, conn)) => {
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    return client;
                }
                Err(e) if Instant::now() < deadline => {
                    eprintln!("connect: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot connect: {e}"),
            }
        }
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
