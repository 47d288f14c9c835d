//! HTTPS for real: the cloud tiers' client speaks TLS through the OS's stack (OpenSSL here), verifies the
//! server's certificate against the system's trust store, and completes a handshake with a server it trusts. The
//! server is Python's `ssl` on loopback with a certificate made for the test by the `openssl` CLI.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SERVE: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"over tls"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// A self-signed certificate for `localhost`, and a TLS server presenting it.
fn serve(dir: &std::path::Path) -> (Server, Vec<u8>) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("the openssl CLI runs (Debian: openssl)");
    assert!(made.success());
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SERVE)
        .arg(&cert)
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("the server said {line:?}"));
    (Server { child, port }, std::fs::read(&cert).unwrap())
}

#[test]
fn the_cloud_client_verifies_certificates_and_completes_a_handshake_it_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let (server, pem) = serve(dir.path());
    let url = format!("https://localhost:{}/", server.port);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The app's client: a certificate nobody the system trusts signed is refused, as a certificate error.
    let err = rt.block_on(complexitynet_providers::http_client().get(&url).send()).unwrap_err();
    let chain = {
        let mut s = err.to_string();
        let mut src = std::error::Error::source(&err);
        while let Some(e) = src {
            s.push_str(&format!(": {e}"));
            src = e.source();
        }
        s
    };
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
    // Trusting that certificate, the same stack completes the handshake and reads the answer.
    let client =
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).build().unwrap();
    let body = rt.block_on(async { client.get(&url).send().await?.text().await }).unwrap();
    assert_eq!(body, "over tls");
}
