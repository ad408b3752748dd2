//! Property tests of the one normalization: transcripts that differ only in volatile values
//! (random UUIDs, timestamps, loopback ports, session ids, ids of server-sent requests)
//! normalize to the same value, equal values stay equal, different ones stay different, and
//! normalizing twice changes nothing.

use alloy_conformance::transcript::{Transcript, normalize};
use proptest::prelude::*;
use serde_json::json;

use alloy_conformance::fuzz::schema::uuid_of as uuid;

fn timestamp(ms: i64) -> String {
    // A plain civil-from-days conversion, enough for years 2000..2100.
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A transcript whose volatile values come from `v`: two uuids (the first used twice), a
/// timestamp, a port, a session id and a server-request id.
fn transcript(uuids: (u128, u128), ts: i64, port: u16, session: &str, server_id: u64) -> Transcript {
    let (a, b) = (uuid(uuids.0), uuid(uuids.1));
    let v = json!({
        "scenario": "tickets/get_ticket__ok",
        "description": "get_ticket",
        "exchanges": [
            {"send": {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "get_ticket", "arguments": {"ticket_id": a}}},
             "recv": [
                {"jsonrpc": "2.0", "id": server_id, "method": "roots/list"},
                {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text",
                  "text": format!("{{\"id\":\"{a}\",\"project_id\":\"{b}\",\"created_at\":\"{}\"}}", timestamp(ts))}],
                  "isError": false}}
             ],
             "upstream": [{"method": "GET", "path": format!("/api/v1/tickets/{a}"),
                           "query": [["org", b.to_uppercase()]],
                           "body": {"callback": format!("http://127.0.0.1:{port}/message?sessionId={session}")},
                           "status": 200}]}
        ]
    });
    Transcript::from_value(v).expect("a transcript")
}

fn deterministic_ids_are_excluded(n: u128) -> bool {
    !uuid(n).starts_with("00000000-0000-4000-8000-")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn transcripts_differing_only_in_volatile_values_normalize_equal(
        u1 in any::<u128>(), u2 in any::<u128>(), v1 in any::<u128>(), v2 in any::<u128>(),
        ts1 in 946_684_800_000i64..4_102_444_800_000, ts2 in 946_684_800_000i64..4_102_444_800_000,
        p1 in 1u16.., p2 in 1u16..,
        s1 in "[A-Za-z0-9-]{1,40}", s2 in "[A-Za-z0-9-]{1,40}",
        r1 in any::<u64>(), r2 in any::<u64>(),
    ) {
        prop_assume!(u1 != u2 && v1 != v2);
        prop_assume!([u1, u2, v1, v2].into_iter().all(deterministic_ids_are_excluded));
        let a = normalize(&transcript((u1, u2), ts1, p1, &s1, r1));
        let b = normalize(&transcript((v1, v2), ts2, p2, &s2, r2));
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(normalize(&a), a.clone());
        let text = a.to_value().to_string();
        prop_assert!(!text.contains(&uuid(u1)) && !text.contains(&uuid(u2)));
        prop_assert!(!text.contains(&timestamp(ts1)));
        prop_assert!(text.contains("<uuid-1>") && text.contains("<uuid-2>"));
        prop_assert!(text.contains("127.0.0.1:<port>") && text.contains("sessionId=<session>"));
        prop_assert!(text.contains("<server-request-1>"));
    }

    #[test]
    fn a_different_reference_is_never_normalized_away(u1 in any::<u128>(), u2 in any::<u128>(), ts in 946_684_800_000i64..4_102_444_800_000) {
        prop_assume!(u1 != u2);
        prop_assume!(deterministic_ids_are_excluded(u1) && deterministic_ids_are_excluded(u2));
        // The same transcript, except that the project id equals the ticket id in one of them.
        let distinct = normalize(&transcript((u1, u2), ts, 80, "s", 1));
        let same = normalize(&transcript((u1, u1), ts, 80, "s", 1));
        prop_assert_ne!(distinct, same);
    }

    #[test]
    fn deterministic_mock_ids_stay_readable(n in 1u64..0xffff_ffff_ffff) {
        let id = format!("00000000-0000-4000-8000-{n:012x}");
        let t = Transcript::from_value(json!({"scenario": "a/b__c", "description": id, "exchanges": [
            {"send": {"id": id}, "recv": [{"jsonrpc": "2.0", "id": 1, "result": {"id": id}}]}]}))
            .expect("a transcript");
        let v = normalize(&t).to_value();
        prop_assert_eq!(&v["description"], &json!(id));
        prop_assert_eq!(&v["exchanges"][0]["recv"][0]["result"]["id"], &json!(id));
    }
}
