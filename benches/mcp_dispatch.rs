//! Dispatch-latency benchmarks of `alloy-mcp`: one JSON-RPC line in, its answer out, through the
//! same stdio framing shim and handler the binary runs (in process, over an in-memory pipe),
//! against the seeded mock API on loopback. Cases separate the server's own cost (`tools/list`,
//! an argument rejected by schema validation) from calls that make one upstream request.
//! `catalog` times the start-up cost of the served tools: the whole catalog built from nothing
//! (schemas generated, published and stripped) on a fresh thread, as `alloy-mcp` builds it
//! ([`ToolCatalog`]); a fresh thread, because rmcp caches generated schemas per thread.
//! Run with `cargo bench --bench mcp_dispatch`.

use alloy_mcp::surface::server::{AlloyServer, ToolCatalog};
use alloy_mcp::surface::tools::Selection;
use alloy_mcp::transport::stdio::{self, StdioOptions};
use alloy_mcp::upstream::api::ApiClient;
use alloy_mcp::upstream::identity::{self, Caller};
use alloy_mock_api::MockAlloy;
use alloy_mock_api::model::OrgRole;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

/// A client end of the pipe: writes request lines, reads answer lines.
struct Client {
    writer: DuplexStream,
    lines: Lines<BufReader<DuplexStream>>,
    next_id: u64,
}

impl Client {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.writer.write_all(line.as_bytes()).await.expect("write");
        self.writer.write_all(b"\n").await.expect("write");
        loop {
            let l = self.lines.next_line().await.expect("read").expect("server open");
            let v: Value = serde_json::from_str(&l).expect("json");
            if v["id"] == json!(id) {
                return v;
            }
        }
    }
}

async fn start() -> (MockAlloy, Client) {
    let mock = MockAlloy::start_seeded().await.expect("mock");
    let token = alloy_mcp::upstream::api::ApiToken::new(mock.key(OrgRole::Member));
    let api = ApiClient::new(&mock.base_url(), token, Duration::from_secs(30)).expect("client");
    let me = identity::verify(&api).await.expect("identity");
    let server = AlloyServer::new(
        Caller {
            api,
            identity: Arc::new(me),
        },
        &Selection::default(),
    );
    let (client_w, server_r) = tokio::io::duplex(1 << 20);
    let (server_w, client_r) = tokio::io::duplex(1 << 20);
    tokio::spawn(stdio::serve(server, server_r, server_w, StdioOptions::default()));
    let mut client = Client {
        writer: client_w,
        lines: BufReader::new(client_r).lines(),
        next_id: 0,
    };
    let init =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}});
    client.call("initialize", init).await;
    client
        .writer
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await
        .expect("write");
    (mock, client)
}

fn bench_mcp(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let (_mock, client) = rt.block_on(start());
    let client = Mutex::new(client);
    let mut group = c.benchmark_group("mcp_dispatch");
    let cases: [(&str, &str, Value); 4] = [
        ("tools_list", "tools/list", json!({})),
        (
            "invalid_arguments_rejected",
            "tools/call",
            json!({"name": "get_ticket", "arguments": {"ticket_id": 42}}),
        ),
        (
            "get_ticket_one_upstream_get",
            "tools/call",
            json!({"name": "get_ticket", "arguments": {"ticket_id": "WEB-1"}}),
        ),
        (
            "search_tickets_page_of_20",
            "tools/call",
            json!({"name": "search_tickets", "arguments": {"project_id": "WEB", "limit": 20}}),
        ),
    ];
    for (name, method, params) in &cases {
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                let answer = client.lock().await.call(method, params.clone()).await;
                assert!(answer.get("result").is_some() || answer.get("error").is_some());
                answer
            })
        });
    }
    group.finish();
}

fn bench_catalog(c: &mut Criterion) {
    let mut group = c.benchmark_group("catalog");
    let read_only = Selection {
        read_only: true,
        ..Selection::default()
    };
    for (name, selection) in [("all_tools", Selection::default()), ("read_only", read_only)] {
        group.bench_function(name, |b| b.iter(|| ToolCatalog::start(&selection).listed().len()));
    }
    group.finish();
}

criterion_group!(benches, bench_mcp, bench_catalog);
criterion_main!(benches);
