//! Dispatch-latency benchmarks of the mock Alloy API's request pipeline, in process (no
//! sockets): route matching, authentication, validation, the handler and JSON rendering, on
//! the bundled seed. Run with `cargo bench --bench dispatch`; compare runs with criterion's
//! saved baselines (`-- --save-baseline main`, then `-- --baseline main`).

use alloy_mock_api::routes::{RawRequest, all_routes, handle};
use alloy_mock_api::seed::Seed;
use alloy_mock_api::store::{Settings, Store};
use alloy_mock_api::values::{Clock, DEFAULT_FIXED_NOW, Ts};
use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;

const MEMBER_KEY: &str = "alloy_test_MmbrAcmeSeed00000000000000000001";

fn seeded_store() -> Store {
    let settings = Settings {
        deterministic: true,
        ..Settings::default()
    };
    let now = Ts::parse(DEFAULT_FIXED_NOW).expect("fixed now parses");
    let mut store = Store::new(settings, Clock::Fixed(now));
    Seed::bundled()
        .expect("bundled seed parses")
        .apply(&mut store)
        .expect("bundled seed applies");
    store
}

fn request(method: &str, path: &str, query: &[(&str, &str)], body: Option<&'static str>) -> RawRequest<'static> {
    let mut headers = BTreeMap::new();
    headers.insert("authorization".to_string(), format!("Bearer {MEMBER_KEY}"));
    if body.is_some() {
        headers.insert("content-type".to_string(), "application/json".to_string());
    }
    RawRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers,
        body: body.map(str::as_bytes).unwrap_or_default(),
        body_len: body.map_or(0, str::len),
    }
}

fn bench_dispatch(c: &mut Criterion) {
    let routes = all_routes();
    let mut store = seeded_store();
    let mut group = c.benchmark_group("mock_dispatch");
    let cases = [
        ("get_ticket_by_key", request("GET", "/api/v1/tickets/WEB-1", &[], None)),
        (
            "list_org_tickets_page_of_50",
            request("GET", "/api/v1/tickets", &[("limit", "50")], None),
        ),
        (
            "search_tickets_filtered",
            request(
                "GET",
                "/api/v1/tickets",
                &[("status_category", "Unstarted,Started"), ("sort", "-priority")],
                None,
            ),
        ),
        (
            "project_summary",
            request("GET", "/api/v1/projects/WEB/summary", &[], None),
        ),
        ("auth_me", request("GET", "/api/v1/auth/me", &[], None)),
    ];
    for (name, req) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let resp = handle(&mut store, &routes, black_box(req));
                assert_eq!(resp.status, 200);
                resp
            })
        });
    }
    // Writes grow the store; a fresh seeded store per batch keeps the measurement stable.
    let create = request(
        "POST",
        "/api/v1/projects/WEB/tickets",
        &[],
        Some(r#"{"title": "Bench ticket", "priority": "High"}"#),
    );
    group.bench_function("create_ticket", |b| {
        b.iter_batched_ref(
            seeded_store,
            |store| {
                let resp = handle(store, &routes, black_box(&create));
                assert_eq!(resp.status, 201);
                resp
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_dispatch);
criterion_main!(benches);
